import pytest
from django.http import Http404

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.selectors import (
    connection_usage,
    connector_get,
    connectors_for_member,
    connectors_of,
)
from orgconnectors.connectors.tool_policy import connector_tools
from tests.factories import ConnectionFactory, ConnectorFactory

State = Connection.State
TOOLS = [
    {"name": "search", "annotations": {"readOnlyHint": True}},
    {"name": "delete_page", "annotations": {"destructiveHint": True}},
]


def test_connectors_of_counts_members_with_the_connector_in_use(org, owner, member, auditor):
    docs = ConnectorFactory(organization=org)
    ConnectionFactory(membership=member, connector=docs, state=State.ENABLED)
    ConnectionFactory(membership=owner, connector=docs, state=State.NEEDS_AUTHORIZATION)
    ConnectionFactory(membership=auditor, connector=docs, state=State.SUSPENDED)

    assert connectors_of(organization=org).get().members_connected == 2


def test_connector_get_answers_404_for_another_organizations_connector(org, other_org):
    foreign = ConnectorFactory(organization=other_org)

    with pytest.raises(Http404):
        connector_get(organization=org, connector_id=foreign.pk)


@pytest.mark.parametrize("connector_id", [999999, "abc", None])
def test_connector_get_answers_404_for_what_does_not_exist(org, connector_id):
    with pytest.raises(Http404):
        connector_get(organization=org, connector_id=connector_id)


def test_connector_tools_apply_the_default_and_the_overrides(org):
    docs = ConnectorFactory(
        organization=org, tool_default=Connector.ToolDefault.BLOCK, discovered_tools=TOOLS
    )
    docs.tool_overrides.create(tool_name="search", enabled=True)
    docs.tool_overrides.create(tool_name="retired_tool", enabled=False)

    tools = {t.name: t for t in connector_tools(docs)}

    assert (tools["search"].enabled, tools["search"].overridden) == (True, True)
    assert tools["search"].read_only is True
    assert (tools["delete_page"].enabled, tools["delete_page"].overridden) == (False, False)
    assert tools["delete_page"].destructive is True
    # An override for a tool the server no longer lists stays visible, so it can be removed.
    assert (tools["retired_tool"].enabled, tools["retired_tool"].discovered) == (False, False)


@pytest.mark.parametrize("size", [3, 30])
def test_connectors_of_with_their_tools_costs_the_same_for_any_number(
    org, member, size, django_assert_num_queries
):
    for connector in ConnectorFactory.create_batch(size, organization=org, discovered_tools=TOOLS):
        connector.tool_overrides.create(tool_name="delete_page", enabled=False)
        ConnectionFactory(membership=member, connector=connector)

    with django_assert_num_queries(2):
        # 1. the connectors with the count of members connected
        # 2. the tool overrides of all of them (prefetch)
        rows = [
            (c.name, c.members_connected, [t.enabled for t in connector_tools(c)])
            for c in connectors_of(organization=org)
        ]

    assert len(rows) == size
    assert all(tools == [True, False] for _, _, tools in rows)


@pytest.mark.parametrize("size", [3, 30])
def test_connectors_for_member_costs_the_same_for_any_number(
    org, member, size, django_assert_num_queries
):
    for connector in ConnectorFactory.create_batch(size, organization=org):
        ConnectionFactory(membership=member, connector=connector, state=State.SUSPENDED)

    with django_assert_num_queries(2):
        # 1. the organization's connectors
        # 2. the member's own connections to them (prefetch)
        rows = [(row.connector.name, row.state) for row in connectors_for_member(membership=member)]

    assert len(rows) == size
    assert {state for _, state in rows} == {State.SUSPENDED}


def test_connectors_for_member_shows_only_the_members_own_connection(org, owner, member):
    docs, wiki = ConnectorFactory.create_batch(2, organization=org)
    ConnectionFactory(membership=owner, connector=docs)
    mine = ConnectionFactory(membership=member, connector=wiki)

    rows = {row.connector: row for row in connectors_for_member(membership=member)}

    assert rows[docs].connection is None
    assert rows[docs].state == State.DISABLED
    assert rows[wiki].connection == mine
    assert rows[wiki].in_use


def test_connection_usage_counts_what_is_in_use_against_the_limit(org, plan, member):
    org.plan = plan("enterprise")
    org.connection_limit_override = 3
    org.save()
    ConnectionFactory(membership=member, state=State.ENABLED)
    ConnectionFactory(membership=member, state=State.NEEDS_AUTHORIZATION)
    ConnectionFactory(membership=member, state=State.SUSPENDED)

    assert connection_usage(membership=member) == (2, 3)
