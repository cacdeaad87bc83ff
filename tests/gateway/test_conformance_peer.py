"""The conformance suite's server (tests/peers/conformance_server.py) behind the gateway, with the
SDK's client: what `make test` checks of the run .ci/conformance does with the suite itself. The
first health check approves the server's listing, the gateway hands it out verbatim (JSON Schema
2020-12 keywords included), and every kind of content, error results and progress come back
through it exactly as they do directly."""

from contextlib import asynccontextmanager

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from orgconnectors.api.scopes import MCP
from orgconnectors.api.tokens import api_token_create
from orgconnectors.connectors.models import Connector
from orgconnectors.core.actor import Actor
from orgconnectors.health.services import health_check_now, health_run_batch
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.gateway.conftest import gateway_client
from tests.loopback import serve_asgi
from tests.peers.conformance_server import conformance_app

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SIMPLE_TOOLS = [
    ("test_simple_text", {}),
    ("test_image_content", {}),
    ("test_audio_content", {}),
    ("test_embedded_resource", {}),
    ("test_multiple_content_types", {}),
    ("test_error_handling", {}),
    ("json_schema_2020_12_tool", {"name": "Ada"}),
]


@pytest.fixture(scope="module")
def conformance_server():
    served = serve_asgi(conformance_app, name="conformance server")
    yield served
    served.stop()


def _behind_gateway(member, gateway, server_url: str) -> tuple[str, str]:
    """A connector on the server, its listing approved by one health check; the gateway URL
    and an API token of the member with the mcp scope."""
    actor = Actor.system("tests")
    connector = ConnectorFactory(
        organization=member.organization,
        url=server_url,
        transport=Connector.Transport.STREAMABLE_HTTP,
    )
    ConnectionFactory(membership=member, connector=connector)
    run_id = health_check_now(connector=connector, actor=actor)
    health_run_batch(run_id=run_id, connector_ids=[connector.pk])
    _token, secret = api_token_create(
        membership=member, name="Conformance", actor=actor, scopes=[MCP]
    )
    return f"{gateway.url}/mcp/{member.organization.slug}/{connector.pk}", secret


@asynccontextmanager
async def direct_client(url: str):
    async with httpx2.AsyncClient(timeout=30) as http:
        client = Client(streamable_http_client(url, http_client=http), mode="auto", cache=None)
        async with client:
            yield client


def _dumped(items) -> list[dict]:
    return [item.model_dump(by_alias=True, exclude_none=True) for item in items]


def test_the_approved_listing_is_the_servers_own_verbatim(member, gateway, conformance_server):
    server_url = conformance_server.url + "/mcp"
    url, secret = _behind_gateway(member, gateway, server_url)

    async def scenario():
        async with direct_client(server_url) as client:
            direct = await client.list_tools()
        async with gateway_client(url, secret) as client:
            through = await client.list_tools()
        return direct, through

    direct, through = anyio.run(scenario)

    by_name = sorted(_dumped(direct.tools), key=lambda t: t["name"])
    assert sorted(_dumped(through.tools), key=lambda t: t["name"]) == by_name
    [schema_tool] = [t for t in through.tools if t.name == "json_schema_2020_12_tool"]
    assert schema_tool.input_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "address" in schema_tool.input_schema["$defs"]
    assert schema_tool.input_schema["additionalProperties"] is False


def test_every_kind_of_content_and_progress_come_back_as_they_do_directly(
    member, gateway, conformance_server
):
    server_url = conformance_server.url + "/mcp"
    url, secret = _behind_gateway(member, gateway, server_url)

    async def results(client) -> tuple[list[types.CallToolResult], list[tuple]]:
        called = [await client.call_tool(name, arguments) for name, arguments in SIMPLE_TOOLS]
        progress = []

        async def on_progress(value, total, message):
            progress.append((value, total, message))

        called.append(
            await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        )
        return called, progress

    async def scenario():
        async with direct_client(server_url) as client:
            direct = await results(client)
        async with gateway_client(url, secret) as client:
            through = await results(client)
        return direct, through

    (direct, direct_progress), (through, through_progress) = anyio.run(scenario)

    assert _dumped(through) == _dumped(direct)
    assert [r.is_error for r in through] == [False] * 5 + [True, False, False]
    assert [kind.type for kind in through[4].content] == ["text", "image", "resource"]
    assert through_progress == direct_progress
    assert [value for value, _total, _message in through_progress] == [0, 50, 100]
