"""Peers for the Messages API configuration tests.

The Messages API only takes https servers, so the configuration leaves out every other one. The
round trip therefore runs the OAuth tests' real authorization server and protected MCP server
(tests/oauth/authorization_server.py) over TLS on 127.0.0.1, with a certificate from a test
authority made here, which the HTTP clients trust on top of the public roots through
ORGCONNECTORS_EGRESS_CA_FILE while a test uses the server.
"""

import datetime as dt
import ipaddress
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from orgconnectors.connectors.models import Connector
from orgconnectors.messages_api.tool_handouts import forget_all
from orgconnectors.oauth.clients import callback_url
from tests.factories import ConnectorFactory
from tests.loopback import serve_asgi
from tests.oauth.authorization_server import Provider, protected_app

# The OAuth tests' fixtures and helpers, used as they are (authorize runs the real flow).
from tests.oauth.conftest import authorize, eager_celery  # noqa: F401


@dataclass(frozen=True)
class TestAuthority:
    ca_pem: str
    ca_file: str
    cert_file: str
    key_file: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _make_authority(directory: Path) -> TestAuthority:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("orgconnectors test authority"))
        .issuer_name(_name("orgconnectors test authority"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode()
    ca_file = directory / "ca.pem"
    ca_file.write_text(ca_pem)
    return TestAuthority(ca_pem, str(ca_file), str(cert_file), str(key_file))


@dataclass
class HttpsAuthServer:
    base_url: str  # https://127.0.0.1:PORT: the issuer
    mcp_url: str
    provider: Provider
    authority: TestAuthority


def _serve_tls(make_app, authority: TestAuthority) -> tuple[str, uvicorn.Server, threading.Thread]:
    """As tests/oauth's `serve`, over TLS."""
    served = serve_asgi(
        make_app, tls=(authority.cert_file, authority.key_file), name="oauth https test server"
    )
    return served.url, served.server, served.thread


@pytest.fixture(scope="session")
def _https_auth_server():
    with tempfile.TemporaryDirectory(prefix="oc-msgapi-tls-") as directory:
        authority = _make_authority(Path(directory))
        provider = Provider(callback_url=lambda: "http://127.0.0.1:8000/oauth/callback")
        base_url, server, thread = _serve_tls(lambda base: protected_app(base, provider), authority)
        yield HttpsAuthServer(base_url, f"{base_url}/mcp", provider, authority)
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture
def https_auth_server(_https_auth_server, settings) -> HttpsAuthServer:
    """The server, with a provider that has forgotten everything but the pre-registered client,
    and the egress clients trusting its certificate authority for the test."""
    settings.ORGCONNECTORS_EGRESS_CA_FILE = _https_auth_server.authority.ca_file
    provider = _https_auth_server.provider
    provider.callback_url = lambda: callback_url(_https_auth_server.base_url)
    provider.reset()
    return _https_auth_server


@pytest.fixture
def oauth_connector(org, https_auth_server):
    """An OAuth connector at the protected https server (no client configured: DCR)."""
    return ConnectorFactory(
        organization=org,
        name="Tracker",
        url=https_auth_server.mcp_url,
        auth=Connector.Auth.OAUTH,
        status=Connector.Status.HEALTHY,
    )


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ORGCONNECTORS_BASE_URL = "http://127.0.0.1:8000"
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = True
    settings.ORGCONNECTORS_CONFIG_RATE_LIMIT = "1000/min"


@pytest.fixture(autouse=True)
def _tool_handouts_forgotten():
    """Each test starts with nothing kept in memory (ids are not reused, but listings written
    behind the health check's back would be)."""
    forget_all()
    yield
    forget_all()
