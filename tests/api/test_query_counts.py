"""A list operation asks the database the same number of questions for 2 rows as for 20."""

import itertools

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connection, ToolChange, ToolOverride
from orgconnectors.connectors.tool_definitions import changed_fields, definition
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.identity.dashboard_groups import group_create, group_members_add
from orgconnectors.identity.models import ScimGroup, ScimUser
from tests.api.conftest import token_client
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory

ACME = "/api/v1/orgs/acme"
_serial = itertools.count()


def add_connectors(people, count: int) -> None:
    """Connectors with tools and an override each, used by the member and the owner."""
    for _ in range(count):
        connector = ConnectorFactory(
            organization=people["owner"].organization,
            discovered_tools=[{"name": "search"}, {"name": "delete_page"}],
        )
        ToolOverride.objects.create(connector=connector, tool_name="delete_page", enabled=False)
        ConnectionFactory(membership=people["member"], connector=connector)
        ConnectionFactory(
            membership=people["owner"], connector=connector, state=Connection.State.SUSPENDED
        )


def add_members(people, count: int) -> None:
    organization = people["owner"].organization
    for _ in range(count):
        membership = MembershipFactory(organization=organization)
        ConnectionFactory(membership=membership, connector__organization=organization)


def add_events(people, count: int) -> None:
    for i in itertools.islice(_serial, count):
        with transaction.atomic():
            audit_record(
                organization=people["owner"].organization,
                actor=Actor(user=people["owner"].user),
                action="connector.updated",
                target=AuditTarget(type="connector", id=i, label=f"Connector {i}", connector_id=i),
            )


def add_tool_changes(people, count: int) -> None:
    """Changes of as many connectors, each reviewed by an owner."""
    organization = people["owner"].organization
    for i in itertools.islice(_serial, count):
        before = definition({"name": f"tool_{i}", "description": "Before."})
        after = definition({"name": f"tool_{i}", "description": "After."})
        ToolChange.objects.create(
            organization=organization,
            connector=ConnectorFactory(organization=organization),
            tool_name=f"tool_{i}",
            kind=ToolChange.Kind.CHANGED,
            state=ToolChange.State.APPROVED,
            detected_at=timezone.now(),
            before=before,
            after=after,
            before_hash=before["hash"],
            after_hash=after["hash"],
            diff=changed_fields(before, after),
            reviewed_by=MembershipFactory(organization=organization).user,
            reviewed_at=timezone.now(),
        )


def add_groups(people, count: int) -> None:
    """Dashboard groups with a member each, and SCIM groups with a provisioned person each."""
    organization = people["owner"].organization
    system = Actor.system("test")
    for i in itertools.islice(_serial, count):
        group = group_create(organization=organization, name=f"Team {i}", actor=system)
        newcomer = MembershipFactory(organization=organization)
        group_members_add(group=group, membership_ids=[newcomer.pk], actor=system)
        scim_group = ScimGroup.objects.create(organization=organization, display_name=f"IdP {i}")
        scim_group.members.add(
            ScimUser.objects.create(
                organization=organization,
                user=MembershipFactory(organization=organization).user,
                user_name=f"idp-{i}@acme.test",
            )
        )


# operation, who calls it, what makes it longer
LISTS = [
    ("/connectors", "owner", add_connectors),
    ("/connectors", "member", add_connectors),
    ("/connections", "member", add_connectors),
    ("/members", "owner", add_members),
    ("/audit-events", "auditor", add_events),
    ("/tool-changes", "auditor", add_tool_changes),
    ("/groups", "owner", add_groups),
]


@pytest.fixture
def people(owner, member, auditor):
    return {"owner": owner, "member": member, "auditor": auditor}


def measure(client, path: str) -> tuple[int, int]:
    """(queries asked, items answered) for one GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    if isinstance(body, dict):  # a page: its rows under their name
        body = body["events"] if "events" in body else body["changes"]
    return len(queries), len(body)


@pytest.mark.parametrize("path, role, add_rows", LISTS, ids=lambda p: getattr(p, "__name__", p))
def test_a_list_asks_as_many_queries_for_20_rows_as_for_2(path, role, add_rows, people, actor):
    client = token_client(people[role], actor=actor)
    add_rows(people, 2)
    # Once, so the token's last use (written at most once a minute) does not count.
    client.get(ACME + path)

    queries_2, items_2 = measure(client, ACME + path)
    add_rows(people, 18)
    queries_20, items_20 = measure(client, ACME + path)

    assert items_20 >= items_2 + 18
    assert queries_2 == queries_20


def test_the_connector_list_asks_four_queries(people, actor, django_assert_num_queries):
    client = token_client(people["member"], actor=actor)
    add_connectors(people, 20)
    client.get(ACME + "/connectors")

    with django_assert_num_queries(4):
        # 1. the API token, with its user and organization
        # 2. the caller's membership in acme, with its organization and plan
        # 3. the connectors, each with its count of members using it
        # 4. their tool overrides, for each connector's tools
        response = client.get(ACME + "/connectors")

    assert len(response.json()) == 20
