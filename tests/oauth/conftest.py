"""The OAuth tests' peers and helpers: the authorization server and MCP server run under uvicorn
in a thread on 127.0.0.1 (a port the OS picks) for the whole session; each test starts with a
provider that has forgotten everything but the pre-registered client."""

import socket
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from django.test import Client
from django.utils.html import escape

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.egress.trust import egress_ssl_context
from orgconnectors.oauth import services
from orgconnectors.oauth.clients import callback_url
from tests.factories import PASSWORD, ConnectorFactory
from tests.loopback import serve_asgi
from tests.oauth.authorization_server import (
    PREREGISTERED_ID,
    PREREGISTERED_SECRET,
    Provider,
    protected_app,
)


@dataclass
class AuthServer:
    base_url: str  # http://127.0.0.1:PORT: the issuer
    mcp_url: str  # the protected MCP server
    provider: Provider
    server: uvicorn.Server
    thread: threading.Thread


def serve(make_app) -> tuple[str, uvicorn.Server, threading.Thread]:
    served = serve_asgi(make_app, name="oauth test server")
    return served.url, served.server, served.thread


@pytest.fixture(scope="session")
def auth_server():
    provider = Provider(callback_url=lambda: "http://127.0.0.1:8000/oauth/callback")
    base_url, server, thread = serve(lambda base: protected_app(base, provider))
    yield AuthServer(base_url, f"{base_url}/mcp", provider, server, thread)
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.ORGCONNECTORS_BASE_URL = "http://127.0.0.1:8000"
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(scope="session")
def second_auth_server():
    """Another authorization server (and protected MCP server), for the mix-up tests."""
    provider = Provider(callback_url=lambda: "http://127.0.0.1:8000/oauth/callback")
    base_url, server, thread = serve(lambda base: protected_app(base, provider))
    yield AuthServer(base_url, f"{base_url}/mcp", provider, server, thread)
    server.should_exit = True
    thread.join(timeout=5)


def _fresh(server: AuthServer) -> Provider:
    # The pre-registered client's redirect URI is the one orgconnectors gives this issuer.
    server.provider.callback_url = lambda: callback_url(server.base_url)
    server.provider.reset()
    return server.provider


@pytest.fixture
def provider(auth_server) -> Provider:
    return _fresh(auth_server)


@pytest.fixture
def second_provider(second_auth_server) -> Provider:
    return _fresh(second_auth_server)


@pytest.fixture(autouse=True)
def eager_celery(eager_celery):
    """Every OAuth test runs tasks inline (tests/conftest.py's eager_celery, made autouse here)."""


@pytest.fixture
def oauth_connector(org, auth_server, provider):
    """An OAuth connector at the protected server, with no client configured (so: DCR)."""
    return ConnectorFactory(
        organization=org, name="Tracker", url=auth_server.mcp_url, auth=Connector.Auth.OAUTH
    )


@pytest.fixture
def preregistered_connector(org, auth_server, provider):
    from orgconnectors.encryption import encrypt

    return ConnectorFactory(
        organization=org,
        name="Tracker",
        url=auth_server.mcp_url,
        auth=Connector.Auth.OAUTH,
        oauth_client_id=PREREGISTERED_ID,
        oauth_client_secret_encrypted=encrypt(PREREGISTERED_SECRET),
    )


def browser_for(membership) -> Client:
    client = Client()
    assert client.login(email=membership.user.email, password=PASSWORD)
    return client


def consent(authorize_url: str) -> str:
    """What the member's browser does at the authorization server: the path and query of
    the redirect back to orgconnectors (the test provider consents at once). The browser trusts
    the authorities orgconnectors does (an https test server's among them)."""
    response = httpx.get(authorize_url, follow_redirects=False, verify=egress_ssl_context())
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    return f"{location.path}?{location.query}"


def handoff_url(response) -> str:
    """Where the answer to Connect or Authorize (a plain form's POST) sends the browser: a page
    that goes on by itself (Refresh), since the CSP's form-action blocks a redirect elsewhere."""
    assert response.status_code == 200, response.content.decode()[:500]
    assert "no-store" in response["Cache-Control"]
    url = response["Refresh"].split("url=", 1)[1]
    assert f'href="{escape(url)}"' in response.content.decode()
    return url


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Authorized:
    connection: Connection
    browser: Client


@pytest.fixture
def authorize(actor, django_capture_on_commit_callbacks):
    """authorize(membership, connector) -> the connection, enabled through the real flow."""

    def run(membership, connector) -> Authorized:
        browser = browser_for(membership)
        browser.get("/")  # a session, as a signed-in browser has
        enabled = services.oauth_connection_enable(
            membership=membership,
            connector=connector,
            session_key=browser.session.session_key,
            actor=actor(membership),
        )
        assert enabled.authorize_url, enabled.reason
        with django_capture_on_commit_callbacks(execute=True):
            response = browser.get(consent(enabled.authorize_url))
        assert response.status_code == 302, response.content.decode()
        enabled.connection.refresh_from_db()
        return Authorized(enabled.connection, browser)

    return run


@pytest.fixture
def unused_port_url():
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/token"
