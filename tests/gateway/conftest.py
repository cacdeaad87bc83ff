"""Real peers for the gateway: SDK MCP servers on loopback (Streamable HTTP, legacy SSE, and one
that wants a bearer token), and the project's own ASGI application (the gateway in front of
Django) under uvicorn on loopback, reached with the SDK's client."""

import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx2
import mcp_types as types
import pytest
from django.core.asgi import get_asgi_application
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from orgconnectors.api.tokens import api_token_create
from orgconnectors.connectors.models import Connector, ToolOverride
from orgconnectors.connectors.tool_definitions import definition
from orgconnectors.core.actor import Actor
from orgconnectors.gateway.access import forget_cached_access
from orgconnectors.gateway.caller import forget_cached_callers
from orgconnectors.gateway.organization import forget_cached_org_listings
from orgconnectors.gateway.server import with_gateway
from orgconnectors.gateway.usage_buffer import usage_flush
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.loopback import LoopbackServer, serve_asgi

OPEN_HOSTS = TransportSecuritySettings(enable_dns_rebinding_protection=False)
GOOD_TOKEN = "upstream-good-token"
_OBJECT = {"type": "object"}
TOOLS = [
    definition(tool)
    for tool in (
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
        },
        {"name": "delete_issue", "inputSchema": _OBJECT, "annotations": {"destructiveHint": True}},
        {"name": "slow", "inputSchema": _OBJECT},
        {"name": "fails", "inputSchema": _OBJECT},
    )
]
# Listed by the servers, never approved: held.
NEW_TOOL = definition({"name": "export_all", "inputSchema": _OBJECT})


class Release:
    """Lets a test hold the `slow` tool until it says so (no sleeping on either side)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.started = threading.Event()


RELEASE = Release()


def upstream(name: str, **kwargs) -> MCPServer:
    server = MCPServer(name, version="1.0", **kwargs)

    @server.tool(title="Search issues", annotations=types.ToolAnnotations(readOnlyHint=True))
    def search(query: str) -> str:
        """Search the issue tracker."""
        return f"found: {query}"

    @server.tool(annotations=types.ToolAnnotations(destructiveHint=True))
    def delete_issue(issue_id: int) -> str:
        """Delete an issue for good."""
        return f"deleted {issue_id}"

    @server.tool()
    async def slow(steps: int, ctx: Context) -> str:
        """Reports progress, then waits until the test releases it."""
        for step in range(steps):
            await ctx.report_progress(step + 1, steps, f"step {step + 1}")
        RELEASE.started.set()
        released = await anyio.to_thread.run_sync(RELEASE.event.wait, 30)
        return "released" if released else "gave up"

    @server.tool()
    def export_all() -> str:
        """Export everything (new: never approved)."""
        return "everything"

    @server.tool()
    def fails() -> str:
        """Always fails."""
        raise ValueError("the tracker is read-only today")

    return server


class AcceptGood:
    async def verify_token(self, token: str) -> AccessToken | None:
        if token == GOOD_TOKEN:
            return AccessToken(token=token, client_id="orgconnectors", scopes=[])
        return None


def protected(base_url: str):
    server = upstream(
        "protected",
        token_verifier=AcceptGood(),
        auth=AuthSettings(
            issuer_url="https://auth.example.com",
            resource_server_url=f"{base_url}/mcp",
            validate_token_resource=False,
        ),
    )
    return server.streamable_http_app(transport_security=OPEN_HOSTS)


@dataclass
class Upstreams:
    streamable: LoopbackServer
    sse: LoopbackServer
    protected: LoopbackServer

    def url(self, transport: str) -> str:
        if transport == "sse":
            return self.sse.url + "/sse"
        return self.streamable.url + "/mcp"


@pytest.fixture(scope="session")
def upstreams():
    started = Upstreams(
        streamable=serve_asgi(
            lambda base: upstream("streamable").streamable_http_app(transport_security=OPEN_HOSTS),
            name="upstream streamable",
        ),
        sse=serve_asgi(
            lambda base: upstream("sse").sse_app(transport_security=OPEN_HOSTS),
            name="upstream sse",
        ),
        protected=serve_asgi(protected, name="upstream protected"),
    )
    yield started
    for served in (started.streamable, started.sse, started.protected):
        served.stop()


@pytest.fixture(scope="session")
def gateway():
    """The project's ASGI application, as `make serve` and `make run` serve it."""
    served = serve_asgi(lambda base: with_gateway(get_asgi_application()), name="gateway")
    yield served
    served.stop()


@pytest.fixture(autouse=True)
def _fresh_gateway_caches(settings):
    # Every check reads the database at once, so a change shows on the next call.
    settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS = 0
    forget_cached_callers()
    forget_cached_access()
    forget_cached_org_listings()
    RELEASE.event.clear()
    RELEASE.started.clear()
    yield
    RELEASE.event.set()
    usage_flush()  # nothing left for a later test, or for the end of the run


@dataclass
class Endpoint:
    connector: Connector
    url: str
    secret: str


def endpoint_for(
    membership, gateway, url: str, transport: str, *, auth=Connector.Auth.NONE, **fields
):
    """A connector on `url` the member is connected to, with delete_issue blocked, and an API
    token of theirs; returns the gateway URL to call. `fields`: more of the connector's."""
    connector = ConnectorFactory(
        **fields,
        organization=membership.organization,
        url=url,
        transport=transport,
        detected_transport=transport,
        auth=auth,
        discovered_tools=[*TOOLS, NEW_TOOL],
        approved_tools=TOOLS,
        tool_listing_version=1,
    )
    ToolOverride.objects.create(connector=connector, tool_name="delete_issue", enabled=False)
    ConnectionFactory(membership=membership, connector=connector)
    _token, secret = api_token_create(
        membership=membership, name="Gateway test", actor=_system_actor()
    )
    org = membership.organization.slug
    return Endpoint(connector, f"{gateway.url}/mcp/{org}/{connector.pk}", secret)


def _system_actor():
    return Actor.system("tests")


@asynccontextmanager
async def gateway_client(url: str, secret: str, *, name: str = "gateway-tests", mode="auto"):
    """The SDK's own client, connected to a gateway endpoint with an API token; `mode` "auto"
    speaks 2026-07-28 (the gateway serves it), "legacy" the initialize handshake of 2025."""
    async with httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {secret}"}, timeout=30
    ) as http:
        client = Client(
            streamable_http_client(url, http_client=http),
            mode=mode,
            cache=None,
            client_info=types.Implementation(name=name, version="9.9"),
        )
        async with client:
            yield client
