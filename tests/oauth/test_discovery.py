"""Discovery in the spec's order, and the servers it refuses, against a scripted HTTP server."""

import threading
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.oauth.discovery import discover
from orgconnectors.oauth.errors import DiscoveryFailed
from orgconnectors.oauth.services import oauth_connection_enable
from tests.factories import ConnectorFactory
from tests.oauth.conftest import serve


@dataclass
class Script:
    """What the scripted server answers at each path (404 elsewhere), and what it was asked."""

    base_url: str = ""
    answers: dict[str, Response] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def json(self, path: str, body: dict) -> None:
        self.answers[path] = JSONResponse(body)


@pytest.fixture(scope="session")
def _scripted_server():
    script = Script()

    async def answer(request):
        with script.lock:
            script.asked.append(request.url.path)
        return script.answers.get(request.url.path) or Response(status_code=404)

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    script.base_url, server, thread = serve(lambda base: app)
    yield script
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def script(_scripted_server) -> Script:
    _scripted_server.answers.clear()
    _scripted_server.asked.clear()
    return _scripted_server


def _server_metadata(script: Script, issuer: str, **overrides) -> dict:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{script.base_url}/authorize",
        "token_endpoint": f"{script.base_url}/token",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        **overrides,
    }


def _challenge(script: Script, header: str) -> None:
    script.answers["/mcp"] = Response(status_code=401, headers={"WWW-Authenticate": header})


def test_without_a_header_it_tries_the_well_known_paths_in_the_specs_order(script):
    _challenge(script, "Bearer")
    issuer = f"{script.base_url}/tenant"
    script.json(
        "/.well-known/oauth-protected-resource",
        {"resource": f"{script.base_url}/mcp", "authorization_servers": [issuer]},
    )
    script.json("/tenant/.well-known/openid-configuration", _server_metadata(script, issuer))

    found = discover(f"{script.base_url}/mcp")

    assert found.server.issuer == issuer
    assert script.asked == [
        "/mcp",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-authorization-server/tenant",
        "/.well-known/openid-configuration/tenant",
        "/tenant/.well-known/openid-configuration",
    ]


def test_the_headers_resource_metadata_and_scope_come_first(script):
    _challenge(
        script,
        f'Bearer resource_metadata="{script.base_url}/meta/prm", scope="files:read files:write"',
    )
    script.json(
        "/meta/prm",
        {"resource": f"{script.base_url}/mcp", "authorization_servers": [script.base_url]},
    )
    script.json(
        "/.well-known/oauth-authorization-server",
        _server_metadata(script, script.base_url, scopes_supported=["x", "offline_access"]),
    )

    found = discover(f"{script.base_url}/mcp")

    assert script.asked[:2] == ["/mcp", "/meta/prm"]
    assert found.scope == "files:read files:write offline_access"
    assert found.resource == f"{script.base_url}/mcp"


def test_a_server_without_pkce_s256_is_refused(script):
    _challenge(script, "Bearer")
    script.json(
        "/.well-known/oauth-authorization-server",
        _server_metadata(script, script.base_url, code_challenge_methods_supported=["plain"]),
    )

    with pytest.raises(DiscoveryFailed, match="does not support PKCE with S256"):
        discover(f"{script.base_url}/mcp")


def test_metadata_for_another_resource_is_refused(script):
    _challenge(script, "Bearer")
    script.json(
        "/.well-known/oauth-protected-resource/mcp",
        {
            "resource": "https://elsewhere.example.com/mcp",
            "authorization_servers": ["https://elsewhere.example.com"],
        },
    )

    with pytest.raises(DiscoveryFailed, match="not for"):
        discover(f"{script.base_url}/mcp")


def test_metadata_naming_another_issuer_is_refused(script):
    _challenge(script, "Bearer")
    script.json(
        "/.well-known/oauth-authorization-server",
        _server_metadata(script, "https://impostor.example.com"),
    )

    with pytest.raises(DiscoveryFailed, match="refuses mixed-up servers"):
        discover(f"{script.base_url}/mcp")


def test_resource_metadata_pointing_at_a_private_address_is_not_fetched(script):
    _challenge(script, 'Bearer resource_metadata="http://169.254.169.254/latest/meta-data"')

    with pytest.raises(DiscoveryFailed, match="cannot be used"):
        discover(f"{script.base_url}/mcp")

    assert script.asked == ["/mcp"]


@pytest.mark.django_db
def test_without_registration_the_owner_is_told_exactly_what_to_configure(
    script, member, org, actor
):
    _challenge(script, "Bearer")
    script.json(
        "/.well-known/oauth-authorization-server", _server_metadata(script, script.base_url)
    )
    connector = ConnectorFactory(
        organization=org, name="Legacy", url=f"{script.base_url}/mcp", auth=Connector.Auth.OAUTH
    )

    enabled = oauth_connection_enable(
        membership=member, connector=connector, session_key="s", actor=actor(member)
    )

    assert enabled.authorize_url is None
    assert "register orgconnectors there as an OAuth client" in enabled.reason
    assert "with the redirect URI http://127.0.0.1:8000/oauth/callback" in enabled.reason
    assert "client ID (and secret, if it has one) in the settings of Legacy" in enabled.reason
    connection = Connection.objects.get()
    assert connection.state == Connection.State.NEEDS_AUTHORIZATION
    assert connection.state_reason == enabled.reason[:300]
