"""The gateway in the request path: the SDK's client calls tools of real SDK servers through
/mcp/{org}/{connector}, over both upstream transports."""

import anyio
import httpx
import pytest
from mcp import MCPError

from orgconnectors.audit.models import UsageEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.gateway.usage_buffer import usage_flush
from tests.gateway.conftest import RELEASE, endpoint_for, gateway_client
from tests.servers import wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TRANSPORTS = ["streamable_http", "sse"]


def _tool_calls():
    usage_flush()
    return list(UsageEvent.objects.filter(kind=UsageEvent.Kind.TOOL_CALL).order_by("pk"))


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_allowed_call_goes_through_and_is_recorded(member, gateway, upstreams, transport, mode):
    """Upstream over both transports; toward the client in 2026-07-28 (auto) and in the
    initialize handshake of 2025 (legacy), whose client name comes from `initialize`."""
    point = endpoint_for(member, gateway, upstreams.url(transport), transport)

    async def scenario():
        async with gateway_client(point.url, point.secret, mode=mode) as client:
            listed = await client.list_tools()
            result = await client.call_tool("search", {"query": "login bug"})
            return client, listed, result

    client, listed, result = anyio.run(scenario)

    # The approved definitions, without the blocked and the held tool.
    assert [t.name for t in listed.tools] == ["fails", "search", "slow"]
    [search] = [t for t in listed.tools if t.name == "search"]
    assert search.title == "Search issues"
    assert search.input_schema["required"] == ["query"]
    assert result.is_error is False
    assert result.content[0].text == "found: login bug"
    [row] = _tool_calls()
    assert row.organization_id == member.organization_id
    assert row.user_id == member.user_id
    assert row.connector_id == point.connector.pk
    assert row.details["tool"] == "search"
    assert row.details["outcome"] == "ok"
    assert row.details["client_name"] == "gateway-tests"
    assert row.details["client_version"] == "9.9"
    assert row.details["request_bytes"] > 0 and row.details["response_bytes"] > 0


def test_initialize_declares_tools_only(member, gateway, upstreams):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            return client.server_capabilities

    capabilities = anyio.run(scenario)

    assert capabilities.tools is not None
    assert capabilities.resources is None
    assert capabilities.prompts is None
    assert capabilities.completions is None


@pytest.mark.parametrize(
    ("tool", "why"),
    [
        ("delete_issue", "blocked by your organization"),
        ("export_all", "is new and held until an owner"),
        ("drop_database", "Unknown tool"),
    ],
)
def test_a_blocked_held_or_unknown_tool_is_refused_and_recorded(
    member, gateway, upstreams, tool, why
):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            with pytest.raises(MCPError) as refused:
                await client.call_tool(tool, {"issue_id": 7})
            return refused.value

    refused = anyio.run(scenario)

    assert why in refused.error.message
    assert refused.error.data == {"outcome": "denied"}
    [row] = _tool_calls()
    assert row.details["outcome"] == "denied"
    assert row.details["tool"] == tool
    assert why in row.details["reason"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_failing_tool_is_a_tool_error(member, gateway, upstreams, transport):
    point = endpoint_for(member, gateway, upstreams.url(transport), transport)

    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            return await client.call_tool("fails", {})

    result = anyio.run(scenario)

    assert result.is_error is True
    assert "fails" in result.content[0].text
    [row] = _tool_calls()
    assert row.details["outcome"] == "tool_error"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_progress_passes_through_and_a_slow_call_blocks_no_other(
    member, gateway, upstreams, transport
):
    point = endpoint_for(member, gateway, upstreams.url(transport), transport)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value, total, message):
        progress.append((value, total, message))

    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            results = {}

            async def slow():
                results["slow"] = await client.call_tool(
                    "slow", {"steps": 2}, progress_callback=on_progress
                )

            async with anyio.create_task_group() as group:
                group.start_soon(slow)
                await anyio.to_thread.run_sync(RELEASE.started.wait, 10)
                # The slow call is held upstream; another call of the same member goes through.
                results["fast"] = await client.call_tool("search", {"query": "meanwhile"})
                RELEASE.event.set()
            return results

    results = anyio.run(scenario)

    assert results["fast"].content[0].text == "found: meanwhile"
    assert results["slow"].content[0].text == "released"
    assert progress == [(1, 2, "step 1"), (2, 2, "step 2")]
    outcomes = sorted(row.details["outcome"] for row in _tool_calls())
    assert outcomes == ["ok", "ok"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_a_call_the_client_cancels_is_recorded_as_cancelled(member, gateway, upstreams, mode):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    async def on_progress(value, total, message):
        pass

    async def scenario():
        async with gateway_client(point.url, point.secret, mode=mode) as client:
            async with anyio.create_task_group() as group:

                async def slow():
                    await client.call_tool("slow", {"steps": 1}, progress_callback=on_progress)

                group.start_soon(slow)
                await anyio.to_thread.run_sync(RELEASE.started.wait, 10)
                group.cancel_scope.cancel()

    anyio.run(scenario)

    rows = wait_for(
        lambda: [r for r in _tool_calls() if r.details["outcome"] == "cancelled"],
        timeout=10,
        what="the cancelled call's usage row",
    )
    assert rows[0].details["tool"] == "slow"


def test_a_call_in_flight_ends_when_the_member_is_disconnected(member, gateway, upstreams):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            async with anyio.create_task_group() as group:
                outcome = {}

                async def slow():
                    try:
                        await client.call_tool("slow", {"steps": 1})
                    except MCPError as exc:
                        outcome["error"] = exc

                group.start_soon(slow)
                await anyio.to_thread.run_sync(RELEASE.started.wait, 10)
                await anyio.to_thread.run_sync(_disconnect, member)
            return outcome

    outcome = anyio.run(scenario)

    assert "not connected" in outcome["error"].error.message
    [row] = _tool_calls()
    assert row.details["outcome"] == "denied"


def _disconnect(membership):
    Connection.objects.filter(membership=membership).update(state=Connection.State.DISABLED)


def test_a_get_stream_is_refused_since_the_gateway_sends_nothing_of_its_own(
    member, gateway, upstreams
):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    response = httpx.get(
        point.url,
        headers={"Authorization": f"Bearer {point.secret}", "Accept": "text/event-stream"},
        timeout=10,
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "stateless" in response.json()["error"]
