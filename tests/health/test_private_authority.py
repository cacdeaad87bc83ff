"""An MCP server whose certificate comes from the organization's own authority: its health check
fails on the certificate until ORGCONNECTORS_EGRESS_CA_FILE names that authority."""

import pytest

from orgconnectors.demo.tls import demo_tls
from orgconnectors.health.outcomes import Outcome
from orgconnectors.health.pool import ProbeRunner
from orgconnectors.health.probe import ProbeTarget
from tests.health.conftest import TEST_CONFIG, mcp_server, serve, stop


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return demo_tls(tmp_path_factory.mktemp("private-ca"))


@pytest.fixture(scope="module")
def private_server(authority):
    served = serve(
        lambda _base: mcp_server().streamable_http_app(),
        tls=(str(authority.cert_file), str(authority.key_file)),
    )
    yield served
    stop(served)


def _check(url: str):
    # A runner of its own: a worker builds its client, and so its trust, when it starts.
    runner = ProbeRunner(config=TEST_CONFIG, concurrency=2)
    try:
        return runner.probe_many([ProbeTarget(url)])[0]
    finally:
        runner.close()


def test_without_the_setting_the_check_fails_on_the_certificate(settings, private_server):
    settings.ORGCONNECTORS_EGRESS_CA_FILE = ""

    result = _check(private_server.url + "/mcp")

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error == (
        "TLS error: the certificate is not valid (unable to get local issuer certificate)"
    )


def test_with_the_authority_in_the_setting_the_server_is_healthy(
    settings, authority, private_server
):
    settings.ORGCONNECTORS_EGRESS_CA_FILE = str(authority.ca_file)

    result = _check(private_server.url + "/mcp")

    assert result.outcome == Outcome.HEALTHY, result.error
    assert [tool["name"] for tool in result.tools] == ["search", "delete_issue"]
