"""A list page asks the database the same number of questions for 2 rows as for 20."""

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connection, ToolChange, ToolOverride
from orgconnectors.connectors.tool_definitions import changed_fields, definition
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.identity.dashboard_groups import group_create, group_members_add
from orgconnectors.identity.models import ScimGroup, ScimUser
from orgconnectors.organizations.models import Invitation, Membership
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory


@dataclass
class Acme:
    owner: Membership
    member: Membership
    auditor: Membership
    # The connector whose detail page grows with its users and tools.
    busy: object


_serial = itertools.count()


def _tools(count: int) -> list[dict]:
    return [
        {"name": f"tool_{i}", "annotations": {"readOnlyHint": i % 2 == 0}} for i in range(count)
    ]


def add_connectors(acme: Acme, count: int) -> None:
    """Connectors, each with a tool override and used by the member and the owner."""
    for _ in range(count):
        connector = ConnectorFactory(
            organization=acme.owner.organization, discovered_tools=_tools(2)
        )
        ToolOverride.objects.create(connector=connector, tool_name="tool_0", enabled=False)
        ConnectionFactory(membership=acme.member, connector=connector)
        ConnectionFactory(
            membership=acme.owner, connector=connector, state=Connection.State.SUSPENDED
        )


def add_members(acme: Acme, count: int) -> None:
    """Members with a connection each, and as many pending invitations from the owner."""
    organization = acme.owner.organization
    for i in itertools.islice(_serial, count):
        membership = MembershipFactory(organization=organization)
        ConnectionFactory(membership=membership, connector=acme.busy)
        Invitation.objects.create(
            organization=organization,
            email=f"invited-{i}@example.com",
            role=Membership.Role.MEMBER,
            token_hash=f"{i:064x}",
            invited_by=acme.owner.user,
            expires_at=timezone.now() + timedelta(days=1),
        )


THREE_ACTIONS = ("connector.registered", "connector.updated", "connector.removed")


def add_events(acme: Acme, count: int) -> None:
    for i in range(count):
        with transaction.atomic():
            audit_record(
                organization=acme.owner.organization,
                actor=Actor(user=acme.owner.user, ip="198.51.100.4"),
                action=THREE_ACTIONS[i % 3],
                target=AuditTarget(type="connector", id=i, label=f"Connector {i}", connector_id=i),
                changes={"name": {"before": None, "after": f"Connector {i}"}},
            )


def add_tokens(acme: Acme, count: int) -> None:
    for i in itertools.islice(_serial, count):
        ApiToken.objects.create(
            user=acme.member.user,
            organization=acme.member.organization,
            name=f"Script {i}",
            prefix=f"oc_{i:07d}",
            token_hash=f"{i:064d}",
            scopes=["read"],
            expires_at=timezone.now() + timedelta(days=30),
            revoked_at=timezone.now() if i % 2 else None,
        )


def add_busy_rows(acme: Acme, count: int) -> None:
    """Users of the busy connector and decisions for its tools."""
    for i in itertools.islice(_serial, count):
        ConnectionFactory(membership=MembershipFactory(organization=acme.owner.organization),
                          connector=acme.busy)  # fmt: skip
        ToolOverride.objects.create(connector=acme.busy, tool_name=f"extra_{i}", enabled=True)
    acme.busy.discovered_tools = _tools(len(acme.busy.discovered_tools) + count)
    acme.busy.save(update_fields=["discovered_tools"])


def add_tool_changes(acme: Acme, count: int) -> None:
    """Changes of as many connectors, each reviewed by an owner."""
    organization = acme.owner.organization
    for i in itertools.islice(_serial, count):
        before = definition({"name": f"tool_{i}", "description": "Before."})
        after = definition({"name": f"tool_{i}", "inputSchema": {"type": "object"}})
        ToolChange.objects.create(
            organization=organization,
            connector=ConnectorFactory(organization=organization),
            tool_name=f"tool_{i}",
            kind=ToolChange.Kind.CHANGED,
            state=ToolChange.State.APPROVED,
            detected_at=timezone.now(),
            before=before,
            after=after,
            diff=changed_fields(before, after),
            reviewed_by=MembershipFactory(organization=organization).user,
            reviewed_at=timezone.now(),
        )


def add_groups(acme: Acme, count: int) -> None:
    """Dashboard groups, each with a new member and opening a connector, and as many SCIM
    groups, each with a provisioned person."""
    organization = acme.owner.organization
    system = Actor.system("test")
    for i in itertools.islice(_serial, count):
        group = group_create(organization=organization, name=f"Team {i}", actor=system)
        newcomer = MembershipFactory(organization=organization)
        group_members_add(group=group, membership_ids=[newcomer.pk], actor=system)
        ConnectorFactory(organization=organization).access_groups.add(group)
        scim_group = ScimGroup.objects.create(organization=organization, display_name=f"IdP {i}")
        scim_group.members.add(
            ScimUser.objects.create(
                organization=organization,
                user=MembershipFactory(organization=organization).user,
                user_name=f"idp-{i}@acme.test",
            )
        )


# page, who reads it, what makes it longer
PAGES = [
    ("connector_list", "owner", add_connectors),
    ("connector_list", "auditor", add_connectors),
    ("my_connectors", "member", add_connectors),
    ("member_list", "owner", add_members),
    ("audit_list", "auditor", add_events),
    ("api_token_list", "member", add_tokens),
    ("connector_detail", "owner", add_busy_rows),
    ("connector_detail", "auditor", add_busy_rows),
    ("tool_changes", "auditor", add_tool_changes),
    ("tool_changes", "owner", add_tool_changes),
    ("groups", "owner", add_groups),
]


@pytest.fixture
def acme(owner, member, auditor, org) -> Acme:
    return Acme(owner, member, auditor, ConnectorFactory(organization=org, name="Busy"))


def page_url(name: str, acme: Acme) -> str:
    if name == "connector_detail":
        return reverse(name, args=["acme", acme.busy.pk])
    return reverse(name, args=["acme"])


def measure(client: Client, url: str) -> tuple[int, int]:
    """(queries asked, bytes of page) for one GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.content)


@pytest.mark.parametrize("name, role, add_rows", PAGES, ids=lambda p: getattr(p, "__name__", p))
def test_a_list_page_asks_as_many_queries_for_20_rows_as_for_2(name, role, add_rows, acme):
    client = Client()
    client.force_login(getattr(acme, role).user)
    url = page_url(name, acme)
    add_rows(acme, 2)
    client.get(url)  # once, so what is read once per process does not count

    queries_2, size_2 = measure(client, url)
    add_rows(acme, 18)
    queries_20, size_20 = measure(client, url)

    assert size_20 > size_2 * 2, "the page does not show the rows it was measured with"
    assert queries_2 == queries_20


def test_the_connector_list_asks_eight_queries(acme, django_assert_num_queries):
    client = Client()
    client.force_login(acme.owner.user)
    add_connectors(acme, 20)
    url = reverse("connector_list", args=["acme"])
    client.get(url)

    with django_assert_num_queries(8):
        # 1. the session
        # 2. the signed-in user
        # 3. the caller's membership in acme, with its organization and plan (org_view)
        # 4. the count of tool changes waiting for review, for the owners' banner
        # 5. the connectors, each with its count of members using it
        # 6. their tool overrides (prefetched by connectors_of, which the API shares)
        # 7. every membership of the caller, for the organization switcher (context processor)
        # 8. the caller's connections in use, for the plan usage in the navigation (same)
        response = client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count("/connectors/") >= 20
