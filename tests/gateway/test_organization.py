"""The organization endpoint /mcp/{org}: each member's connected connectors behind one MCP
server, tools named {connector}__{tool}, calls routed to real SDK servers upstream."""

import re

import anyio
import pytest
from mcp import MCPError

from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import UsageEvent
from orgconnectors.connectors.models import Connection, Connector, ToolOverride
from orgconnectors.core.actor import Actor
from orgconnectors.gateway.access import forget_cached_access
from orgconnectors.gateway.organization import (
    LEFT_OUT_KEY,
    forget_cached_org_listings,
    org_tool_name,
)
from orgconnectors.gateway.usage_buffer import usage_flush
from orgconnectors.organizations.models import Membership
from tests.factories import ConnectionFactory, MembershipFactory
from tests.gateway.conftest import GOOD_TOKEN, endpoint_for, gateway_client
from tests.messages_api.helpers import stored_credential

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.fixture
def two_connectors(member, gateway, upstreams):
    """Issues (Streamable HTTP) and Tracker (legacy SSE), both connected by `member`."""
    issues = endpoint_for(
        member, gateway, upstreams.url("streamable_http"), "streamable_http", name="Issues"
    )
    tracker = endpoint_for(member, gateway, upstreams.url("sse"), "sse", name="Tracker")
    return issues, tracker


def _org_url(gateway, membership) -> str:
    return f"{gateway.url}/mcp/{membership.organization.slug}"


def _listing(url: str, secret: str):
    async def scenario():
        async with gateway_client(url, secret) as client:
            return await client.list_tools()

    return anyio.run(scenario)


def _call(url: str, secret: str, name: str, arguments: dict):
    """The tool's result; a JSON-RPC error is raised as MCPError (outside the client, which
    would wrap it in an exception group)."""

    async def scenario():
        async with gateway_client(url, secret, name="org-client") as client:
            try:
                return await client.call_tool(name, arguments)
            except MCPError as exc:
                return exc

    answer = anyio.run(scenario)
    if isinstance(answer, MCPError):
        raise answer
    return answer


def test_two_members_with_different_connections_see_different_listings(
    member, gateway, two_connectors
):
    issues, tracker = two_connectors
    other = MembershipFactory(
        organization=member.organization,
        role=Membership.Role.MEMBER,
        user__email="other@acme.test",
    )
    ConnectionFactory(membership=other, connector=tracker.connector)
    _token, other_secret = api_token_create(
        membership=other, name="Other", actor=Actor.system("tests")
    )

    mine = _listing(_org_url(gateway, member), issues.secret)
    theirs = _listing(_org_url(gateway, other), other_secret)

    # Approved definitions only: delete_issue is blocked, export_all held, on both.
    assert [t.name for t in mine.tools] == [
        "issues__fails",
        "issues__search",
        "issues__slow",
        "tracker__fails",
        "tracker__search",
        "tracker__slow",
    ]
    assert [t.name for t in theirs.tools] == ["tracker__fails", "tracker__search", "tracker__slow"]
    [search] = [t for t in mine.tools if t.name == "issues__search"]
    assert search.title == "Search issues"
    assert search.input_schema["required"] == ["query"]
    assert not (mine.meta or {}).get(LEFT_OUT_KEY)


def test_a_call_is_routed_to_its_connector_and_recorded_there(member, gateway, two_connectors):
    issues, tracker = two_connectors

    result = _call(_org_url(gateway, member), issues.secret, "tracker__search", {"query": "q"})

    assert result.is_error is False
    assert result.content[0].text == "found: q"
    usage_flush()
    [row] = UsageEvent.objects.filter(kind=UsageEvent.Kind.TOOL_CALL)
    assert row.connector_id == tracker.connector.pk
    assert row.user_id == member.user_id
    assert row.details["tool"] == "search"
    assert row.details["outcome"] == "ok"
    assert row.details["client_name"] == "org-client"


def test_the_members_own_token_goes_upstream(member, gateway, upstreams):
    point = endpoint_for(
        member,
        gateway,
        upstreams.protected.url + "/mcp",
        "streamable_http",
        auth="oauth",
        name="Protected",
    )
    stored_credential(Connection.objects.get(connector=point.connector), token=GOOD_TOKEN)

    result = _call(_org_url(gateway, member), point.secret, "protected__search", {"query": "x"})

    assert result.content[0].text == "found: x"


@pytest.mark.parametrize(
    ("tool", "why"),
    [
        ("issues__delete_issue", "blocked by your organization"),
        ("issues__export_all", "is new and held until an owner"),
        ("nowhere__search", "Unknown tool"),
    ],
)
def test_a_tool_not_handed_out_is_refused_and_recorded(member, gateway, two_connectors, tool, why):
    issues, _tracker = two_connectors

    with pytest.raises(MCPError) as refused:
        _call(_org_url(gateway, member), issues.secret, tool, {})

    assert why in refused.value.error.message
    usage_flush()
    [row] = UsageEvent.objects.filter(kind=UsageEvent.Kind.TOOL_CALL)
    assert row.details["outcome"] == "denied"


def test_a_failing_connector_is_left_out_with_a_note_not_an_error(member, gateway, two_connectors):
    issues, tracker = two_connectors
    Connector.objects.filter(pk=tracker.connector.pk).update(
        status=Connector.Status.DOWN, last_error="connection refused"
    )
    url = _org_url(gateway, member)

    listed = _listing(url, issues.secret)
    with pytest.raises(MCPError) as refused:
        _call(url, issues.secret, "tracker__search", {"query": "q"})

    assert [t.name for t in listed.tools] == ["issues__fails", "issues__search", "issues__slow"]
    [note] = listed.meta[LEFT_OUT_KEY]
    assert note["connector"] == "tracker"
    assert note["connector_id"] == tracker.connector.pk
    assert "down (connection refused)" in note["reason"]
    assert "down" in refused.value.error.message


def test_a_change_shows_at_the_next_listing_and_list_changed_is_not_declared(
    member, gateway, two_connectors
):
    issues, tracker = two_connectors
    url = _org_url(gateway, member)

    async def scenario():
        async with gateway_client(url, issues.secret) as client:
            before = await client.list_tools()
            await anyio.to_thread.run_sync(_block_and_disconnect, issues, tracker)
            after = await client.list_tools()
            return client.server_capabilities, before, after

    capabilities, before, after = anyio.run(scenario)

    assert not capabilities.tools.list_changed  # stateless: no server-initiated notification
    assert "issues__search" in [t.name for t in before.tools]
    assert "tracker__fails" in [t.name for t in before.tools]
    assert [t.name for t in after.tools] == ["issues__fails", "issues__slow"]


def _block_and_disconnect(issues, tracker):
    ToolOverride.objects.create(connector=issues.connector, tool_name="search", enabled=False)
    Connection.objects.filter(connector=tracker.connector).update(state=Connection.State.DISABLED)


def test_names_keep_to_the_rules_and_stay_stable():
    long_tool = "a_tool_with_a_name_far_too_long_for_the_messages_api_" + "x" * 40
    dotted = "issues.search"

    names = [
        org_tool_name("issues", "search"),
        org_tool_name("issues", long_tool),
        org_tool_name("issues", long_tool + "y"),
        org_tool_name("issues", dotted),
        org_tool_name("issues", "issues_search"),
    ]

    assert names[0] == "issues__search"
    assert all(NAME_RULE.match(name) for name in names)
    assert len(set(names)) == len(names)
    assert len(names[1]) == 64
    assert names[1] == org_tool_name("issues", long_tool)
    assert names[3].startswith("issues__issues_search_")


def test_a_listing_kept_in_memory_is_served_again_until_it_is_renewed(
    member, gateway, two_connectors, settings
):
    """The wire form is reused only with the listing it was made from (gateway/server.py)."""
    issues, _tracker = two_connectors
    settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS = 60
    url = _org_url(gateway, member)

    first = _listing(url, issues.secret)
    ToolOverride.objects.create(connector=issues.connector, tool_name="search", enabled=False)
    kept = _listing(url, issues.secret)
    forget_cached_access()
    forget_cached_org_listings()  # as when the cache period ends
    renewed = _listing(url, issues.secret)

    assert [t.name for t in kept.tools] == [t.name for t in first.tools]
    assert "issues__search" in [t.name for t in kept.tools]
    assert "issues__search" not in [t.name for t in renewed.tools]
    assert "tracker__search" in [t.name for t in renewed.tools]
