"""The kill switch and the live view through the real gateway: a pause cuts off a call in
flight and refuses new ones; owners see live sessions and end one."""

import anyio
import pytest
import redis
from django.test import Client as DjangoClient
from django.urls import reverse
from mcp import MCPError

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.pauses import connector_pause
from orgconnectors.core.actor import Actor
from orgconnectors.gateway.sessions import forget_sessions, live_sessions
from tests.gateway.conftest import RELEASE, endpoint_for, gateway_client
from tests.servers import wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ACTOR = Actor.system("tests")


@pytest.fixture(autouse=True)
def _nothing_seen(settings):
    if settings.REDIS_URL:
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
    forget_sessions()


@pytest.fixture
def point(member, gateway, upstreams):
    return endpoint_for(
        member, gateway, upstreams.url("streamable_http"), "streamable_http", name="Issues"
    )


def _call(url, secret, tool="search", *, name="gateway-tests"):
    async def scenario():
        async with gateway_client(url, secret, name=name) as client:
            try:
                return await client.call_tool(tool, {"query": "q"})
            except MCPError as exc:
                return exc

    return anyio.run(scenario)


def _pause(connector):
    connector_pause(connector=connector, actor=ACTOR, paused=True)


def test_a_pause_ends_a_call_in_flight_and_refuses_new_ones(point, member):
    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            outcome = {}
            async with anyio.create_task_group() as group:

                async def slow():
                    try:
                        await client.call_tool("slow", {"steps": 1})
                    except MCPError as exc:
                        outcome["error"] = exc

                group.start_soon(slow)
                await anyio.to_thread.run_sync(RELEASE.started.wait, 10)
                await anyio.to_thread.run_sync(_pause, point.connector)
            return outcome

    outcome = anyio.run(scenario)
    refused = _call(point.url, point.secret)

    assert "paused Issues" in outcome["error"].error.message
    assert isinstance(refused, MCPError)
    assert "paused Issues" in refused.error.message
    assert AuditEvent.objects.filter(action="connector.paused").count() == 1
    page = _signed_in(member).get(reverse("my_connectors", args=["acme"])).content.decode()
    assert "An owner paused Issues for everyone" in page


def test_a_paused_connector_is_left_out_of_the_organization_listing(point, member, gateway):
    _pause(point.connector)

    async def scenario():
        async with gateway_client(f"{gateway.url}/mcp/acme", point.secret) as client:
            return await client.list_tools()

    listed = anyio.run(scenario)

    assert listed.tools == []
    [note] = listed.meta["orgconnectors/left_out"]
    assert "paused Issues" in note["reason"]


def test_owners_see_live_sessions_and_end_one(point, member, owner, gateway):
    org_url = f"{gateway.url}/mcp/acme"
    for _ in range(2):
        assert (
            _call(org_url, point.secret, "issues__search", name="claude-desktop").is_error is False
        )

    [session] = wait_for(
        lambda: [
            s
            for s in live_sessions(organization_id=member.organization_id)
            if s.calls_last_minute == 2
        ],
        timeout=10,
        what="the session's two calls",
    )
    page = _signed_in(owner).get(reverse("gateway_live", args=["acme"])).content.decode()
    ended = _signed_in(owner).post(
        reverse("gateway_session_end", args=["acme"]),
        {"member_id": member.pk, "connector_id": ""},
    )
    refused = _call(org_url, point.secret, "issues__search")
    still = _call(org_url, point.secret, "issues__search")

    assert (session.membership_id, session.connector_id, session.client) == (
        member.pk,
        None,
        "claude-desktop",
    )
    assert "member@acme.test" in page and "claude-desktop" in page
    assert "Organization endpoint" in page
    assert ended.status_code == 302
    assert isinstance(refused, MCPError) and "ended your session" in refused.error.message
    assert isinstance(still, MCPError)  # held for a while, not for one call
    assert AuditEvent.objects.filter(action="gateway.session_ended").count() == 1


def test_resuming_lets_calls_through_again(point):
    _pause(point.connector)
    connector_pause(connector=point.connector, actor=ACTOR, paused=False)

    result = _call(point.url, point.secret)

    assert result.is_error is False
    assert Connector.objects.get(pk=point.connector.pk).paused_at is None


def _signed_in(membership) -> DjangoClient:
    client = DjangoClient()
    client.force_login(membership.user)
    return client
