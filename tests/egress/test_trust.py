"""ORGCONNECTORS_EGRESS_CA_FILE: an organization's own certificate authority, trusted on top of
the public roots by every outbound client, and refused at startup when it cannot be used."""

import os
import subprocess
import sys

import httpx
import pytest
from django.conf import settings as django_settings
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from orgconnectors.demo.tls import demo_tls
from orgconnectors.egress.client import build_client
from orgconnectors.egress.guard import EgressPolicy
from orgconnectors.egress.trust import egress_ssl_context
from tests.loopback import serve_asgi

LOOPBACK = EgressPolicy(allow_loopback=True)


async def hello(request):
    return PlainTextResponse("hello over a private authority")


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return demo_tls(tmp_path_factory.mktemp("private-ca"))


@pytest.fixture(scope="module")
def private_server(authority):
    served = serve_asgi(
        lambda _base: Starlette(routes=[Route("/", hello)]),
        tls=(str(authority.cert_file), str(authority.key_file)),
        name="server with a private certificate",
    )
    yield served
    served.stop()


def _subjects(context) -> list[str]:
    return [str(cert["subject"]) for cert in context.get_ca_certs()]


def test_the_extra_authority_is_trusted_on_top_of_the_public_roots(settings, authority):
    settings.ORGCONNECTORS_EGRESS_CA_FILE = ""
    public = egress_ssl_context().cert_store_stats()["x509_ca"]
    settings.ORGCONNECTORS_EGRESS_CA_FILE = str(authority.ca_file)

    context = egress_ssl_context()

    assert public > 100  # certifi's roots at least
    assert context.cert_store_stats()["x509_ca"] == public + 1
    assert any("orgconnectors demo authority" in subject for subject in _subjects(context))


def test_the_context_is_built_once_per_process(settings, authority):
    settings.ORGCONNECTORS_EGRESS_CA_FILE = str(authority.ca_file)

    assert egress_ssl_context() is egress_ssl_context()
    assert egress_ssl_context(shared=False) is not egress_ssl_context()


def test_a_server_of_the_private_authority_fails_verification_without_the_setting(
    settings, private_server
):
    settings.ORGCONNECTORS_EGRESS_CA_FILE = ""

    with build_client(policy=LOOPBACK) as client, pytest.raises(httpx.ConnectError) as failure:
        client.get(private_server.url)

    assert "CERTIFICATE_VERIFY_FAILED" in str(failure.value)


def test_a_server_of_the_private_authority_is_trusted_with_the_setting(
    settings, authority, private_server
):
    settings.ORGCONNECTORS_EGRESS_CA_FILE = str(authority.ca_file)

    with build_client(policy=LOOPBACK) as sync_client:
        assert sync_client.get(private_server.url).text == "hello over a private authority"
    # httpx2, which the MCP SDK's clients use, trusts it as well.
    with build_client(library="httpx2", policy=LOOPBACK) as httpx2_client:
        assert httpx2_client.get(private_server.url).status_code == 200


def _settings_error(tmp_path, ca_file: str) -> str:
    env = {
        **os.environ,
        "ORGCONNECTORS_EGRESS_CA_FILE": ca_file,
        "DJANGO_SETTINGS_MODULE": "orgconnectors.settings",
    }
    finished = subprocess.run(
        [sys.executable, "-c", "import orgconnectors.settings"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    return finished.stderr.strip().splitlines()[-1]


def test_a_missing_ca_file_stops_startup_with_a_sentence_naming_the_setting(tmp_path):
    missing = tmp_path / "nowhere.pem"

    error = _settings_error(tmp_path, str(missing))

    assert error.endswith(
        f"ORGCONNECTORS_EGRESS_CA_FILE={missing} names a file that does not exist."
    )


def test_a_ca_file_without_a_certificate_stops_startup_with_a_sentence(tmp_path):
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("our CA is on the wiki\n")

    error = _settings_error(tmp_path, str(not_pem))

    assert error.endswith(
        f"ORGCONNECTORS_EGRESS_CA_FILE={not_pem} holds no PEM certificate; it must be a bundle "
        "of -----BEGIN CERTIFICATE----- blocks."
    )


def test_a_good_ca_file_lets_the_settings_load(tmp_path, authority):
    env = {**os.environ, "ORGCONNECTORS_EGRESS_CA_FILE": str(authority.ca_file)}
    code = "import orgconnectors.settings as s; print(s.ORGCONNECTORS_EGRESS_CA_FILE)"

    finished = subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == str(authority.ca_file)
