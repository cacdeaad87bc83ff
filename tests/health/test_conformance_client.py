"""`manage.py mcp_conformance_client URL`: the health check of a connector, on any URL."""

import json

import pytest
from django.core.management import CommandError, call_command


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("mcp_conformance_client", *args, stdout=out)
    return out.getvalue()


def test_it_checks_a_loopback_server_as_a_connector_is_checked(peers, settings):
    # Production settings refuse loopback; the command allows it for its own run only.
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False

    printed = run(peers.legacy_sse.url + "/sse")

    assert "Outcome:          Healthy (healthy)" in printed
    assert "Transport:        HTTP+SSE (legacy)" in printed  # after Streamable HTTP failed
    assert "Server:           demo 1.2.3" in printed
    assert "  - search (Search issues)\n  - delete_issue\n" in printed
    assert "the API connector uses only its tools" in printed
    assert settings.ORGCONNECTORS_ALLOW_LOOPBACK is False
    rpc = peers.legacy_sse.log.rpc_methods()
    assert "tools/list" in rpc and ("initialize" in rpc or "server/discover" in rpc)


def test_it_prints_json_on_request(peers):
    url = peers.stateless_json.url + "/mcp"
    data = json.loads(run(url, "--transport", "streamable_http", "--json"))

    assert (data["outcome"], data["transport"]) == ("healthy", "streamable_http")
    assert [t["name"] for t in data["tools"]] == ["search", "delete_issue"]


def test_a_server_that_does_not_answer_fails_the_command(peers):
    with pytest.raises(CommandError, match="Unreachable: connection refused"):
        run(peers.refused_url)


def test_the_egress_guard_still_refuses_the_metadata_address(db):
    with pytest.raises(CommandError, match="Misconfigured: .*169.254.169.254"):
        run("http://169.254.169.254/latest/meta-data/")
