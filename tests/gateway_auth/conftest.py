"""Real peers for the gateway's authorization server: the project's ASGI application (the
gateway in front of Django) under uvicorn on loopback, an SDK MCP server behind it, a Client ID
Metadata Document served over https from loopback, and a browser-like client that signs a member
in and answers the consent page the way a person would."""

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import mcp_types as types
import pytest
from django.conf import settings as django_settings
from django.core.asgi import get_asgi_application
from django.test import Client as DjangoClient
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from orgconnectors.connectors.models import Connector, ToolOverride
from orgconnectors.connectors.tool_definitions import definition
from orgconnectors.demo.tls import demo_tls
from orgconnectors.gateway.access import forget_cached_access
from orgconnectors.gateway.authorization.access_tokens import forget
from orgconnectors.gateway.caller import forget_cached_callers
from orgconnectors.gateway.server import with_gateway
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.loopback import serve_asgi

CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
OPEN_HOSTS = TransportSecuritySettings(enable_dns_rebinding_protection=False)
_OBJECT = {"type": "object"}
# As the health check records them, and as an owner approved them (Tool governance).
TOOLS = [
    definition(
        {
            "name": "search",
            "title": "Search issues",
            "description": "Search the issue tracker.",
            "inputSchema": {
                "type": "object",
                "properties": {"query": {"type": "string"}},
                "required": ["query"],
            },
            "annotations": {"readOnlyHint": True},
        }
    ),
    definition(
        {"name": "delete_issue", "inputSchema": _OBJECT, "annotations": {"destructiveHint": True}}
    ),
]


def upstream_app(_base: str):
    server = MCPServer("tracker", version="1.0")

    @server.tool(title="Search issues", annotations=types.ToolAnnotations(readOnlyHint=True))
    def search(query: str) -> str:
        """Search the issue tracker."""
        return f"found: {query}"

    @server.tool(annotations=types.ToolAnnotations(destructiveHint=True))
    def delete_issue(issue_id: int) -> str:
        """Delete an issue for good."""
        return f"deleted {issue_id}"

    return server.streamable_http_app(transport_security=OPEN_HOSTS)


@pytest.fixture(scope="session")
def upstream():
    served = serve_asgi(upstream_app, name="upstream MCP server")
    yield served
    served.stop()


@pytest.fixture(scope="session")
def gateway_server():
    """The project's ASGI application, as `make serve` and `make run` serve it."""
    served = serve_asgi(lambda base: with_gateway(get_asgi_application()), name="orgconnectors")
    yield served
    served.stop()


@pytest.fixture
def base_url(gateway_server, settings, authority):
    """orgconnectors' public URL is the loopback server's: the issuer, the resources. Outbound
    calls trust the test authority throughout (the gateway's pooled upstream clients keep the
    trust they were built with)."""
    settings.ORGCONNECTORS_BASE_URL = gateway_server.url
    settings.ORGCONNECTORS_EGRESS_CA_FILE = str(authority.ca_file)
    # Every check reads the database at once, so a change shows on the next call.
    settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS = 0
    forget()
    forget_cached_callers()
    forget_cached_access()
    return gateway_server.url


@dataclass
class GatewayEndpoint:
    connector: Connector
    url: str


def endpoint_for(
    membership, upstream_url: str, *, connected: bool = True, name: str = "Tracker"
) -> GatewayEndpoint:
    """A connector on the upstream server (its URL told apart by `name`), the member connected
    to it, with delete_issue blocked; and its gateway endpoint."""
    connector = ConnectorFactory(
        organization=membership.organization,
        name=name,
        url=upstream_url + "/mcp" + ("" if name == "Tracker" else f"?as={name}"),
        transport=Connector.Transport.STREAMABLE_HTTP,
        detected_transport=Connector.Transport.STREAMABLE_HTTP,
        auth=Connector.Auth.NONE,
        discovered_tools=TOOLS,
        approved_tools=TOOLS,
        tool_listing_version=1,
    )
    ToolOverride.objects.create(connector=connector, tool_name="delete_issue", enabled=False)
    if connected:
        ConnectionFactory(membership=membership, connector=connector)
    org = membership.organization.slug
    return GatewayEndpoint(
        connector, f"{django_settings.ORGCONNECTORS_BASE_URL}/mcp/{org}/{connector.pk}"
    )


@pytest.fixture
def endpoint(base_url, member, upstream):
    return endpoint_for(member, upstream.url)


def session_cookie(membership) -> dict[str, str]:
    """The cookies of a browser in which the member is signed in."""
    client = DjangoClient()
    client.force_login(membership.user)
    name = django_settings.SESSION_COOKIE_NAME
    return {name: client.cookies[name].value}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


_HIDDEN = re.compile(r'<input type="hidden" name="(?P<name>[^"]+)" value="(?P<value>[^"]*)"')


def hidden_fields(html: str) -> list[tuple[str, str]]:
    return [
        (m["name"], m["value"].replace("&quot;", '"').replace("&amp;", "&"))
        for m in _HIDDEN.finditer(html)
    ]


class Browser:
    """A member's browser: signed in to orgconnectors, it opens an authorization URL, reads the
    consent page and presses Allow (or Cancel), and reports where it was sent back to."""

    def __init__(self, membership) -> None:
        self.http = httpx.Client(cookies=session_cookie(membership), timeout=30)
        self.consent_page = ""

    def open(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def consent(self, url: str, action: str = "grant") -> dict[str, str]:
        """Allow (or cancel) at `url`; returns the parameters of the redirect back."""
        page = self.open(url)
        assert page.status_code == 200, page.text
        self.consent_page = page.text
        form = urlparse(url)
        answer = self.http.post(
            f"{form.scheme}://{form.netloc}/identity/o/authorize",
            content=urlencode([*hidden_fields(page.text), ("action", action)]),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 302, answer.text
        back = urlparse(answer.headers["location"])
        return {key: values[0] for key, values in parse_qs(back.query).items()} | {
            "_to": f"{back.scheme}://{back.netloc}{back.path}"
        }

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browser():
    opened: list[Browser] = []

    def open_for(membership) -> Browser:
        opened.append(Browser(membership))
        return opened[-1]

    yield open_for
    for each in opened:
        each.close()


def authorize_url(metadata: dict, **params) -> str:
    given = {key: value for key, value in params.items() if value is not None}
    return f"{metadata['authorization_endpoint']}?{urlencode(given, doseq=True)}"


# Client ID Metadata Documents, served over https by a certificate of the demo's authority.


@pytest.fixture(scope="session")
def authority(tmp_path_factory):
    return demo_tls(tmp_path_factory.mktemp("cimd-ca"))


@pytest.fixture(scope="session")
def cimd_server(authority):
    documents: dict[str, dict] = {}

    def make(base: str):
        async def document(request):
            found = documents.get(request.path_params["name"])
            if found is None:
                return JSONResponse({"error": "no such client"}, status_code=404)
            return JSONResponse(found)

        return Starlette(routes=[Route("/clients/{name}.json", document)])

    served = serve_asgi(
        make, tls=(str(authority.cert_file), str(authority.key_file)), name="CIMD host"
    )
    served.documents = documents
    yield served
    served.stop()


@pytest.fixture
def cimd_client(cimd_server, authority, settings):
    """publish(name, redirect_uris) -> the client_id of a metadata document served at it."""
    settings.ORGCONNECTORS_EGRESS_CA_FILE = str(authority.ca_file)

    def publish(name: str, redirect_uris: list[str], **extra) -> str:
        client_id = f"{cimd_server.url}/clients/{name}.json"
        cimd_server.documents[name] = {
            "client_id": client_id,
            "client_name": name,
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **extra,
        }
        return client_id

    return publish
