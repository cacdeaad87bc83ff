"""Groups owners make in the dashboard: people of the organization with or without a SCIM
record, who may connect the connectors limited to the group, take its mapped role, and lose
the connections only it let them hold when they leave it or it is deleted. SCIM groups are not
changed from the dashboard, and the identity provider never sees a dashboard group."""

import pytest
from django.test import Client

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.group_access import ConnectorAccessRefused, connector_access_set
from orgconnectors.connectors.models import Connection
from orgconnectors.connectors.selectors import connectors_for_member
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.dashboard_groups import (
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_rename,
)
from orgconnectors.identity.group_roles import group_role_preview, group_role_set
from orgconnectors.identity.models import ScimGroup
from orgconnectors.identity.services import ScimTeam, scim_group_create
from orgconnectors.organizations.models import Membership
from tests.factories import ConnectorFactory
from tests.scim.helpers import PATCH_OP, Scim

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def support(org, member):
    """A dashboard group holding the member, who has no SCIM record."""
    group = group_create(organization=org, name="Support", actor=SYSTEM)
    return group_members_add(group=group, membership_ids=[member.pk], actor=SYSTEM)


@pytest.fixture
def helpdesk(org, support):
    """A connector only Support's people may connect."""
    connector = ConnectorFactory(organization=org, name="Helpdesk")
    connector_access_set(
        connector=connector, who_may_connect="groups", group_ids=[support.pk], actor=SYSTEM
    )
    return connector


def test_an_owner_makes_a_group_and_the_trail_records_it(org, owner, actor):
    group = group_create(organization=org, name="  Support  ", actor=actor(owner))

    assert group.display_name == "Support"
    assert group.source == ScimGroup.Source.DASHBOARD
    event = AuditEvent.objects.get(action="group.created")
    assert event.target_type == "group"
    assert event.changes == {"name": {"before": None, "after": "Support"}}


def test_a_group_name_taken_in_the_organization_is_refused_with_a_sentence(org, support):
    with pytest.raises(ServiceError, match="already a group named “support”"):
        group_create(organization=org, name="support", actor=SYSTEM)
    with pytest.raises(ServiceError, match="Give the group a name"):
        group_create(organization=org, name=" ", actor=SYSTEM)


def test_a_member_in_a_dashboard_group_connects_a_connector_limited_to_it(member, helpdesk):
    assert not member.user.scim_users.exists()
    assert helpdesk in [row.connector for row in connectors_for_member(membership=member)]

    connection = connection_enable(membership=member, connector=helpdesk, actor=SYSTEM)

    assert connection.state == Connection.State.ENABLED


def test_a_member_outside_the_dashboard_group_cannot_connect_and_is_told_why(owner, helpdesk):
    assert helpdesk not in [row.connector for row in connectors_for_member(membership=owner)]
    with pytest.raises(ConnectorAccessRefused, match=r"Helpdesk \(Support\)"):
        connection_enable(membership=owner, connector=helpdesk, actor=SYSTEM)


def test_removing_a_member_from_the_group_ends_their_connection(
    member, support, helpdesk, actor, owner
):
    connection_enable(membership=member, connector=helpdesk, actor=SYSTEM)

    group_members_remove(group=support, membership_ids=[member.pk], actor=actor(owner))

    connection = Connection.objects.get(membership=member, connector=helpdesk)
    assert connection.state == Connection.State.DISABLED
    assert "Only members of chosen groups" in connection.state_reason
    assert list(support.dashboard_members.all()) == []
    event = AuditEvent.objects.get(action="group.members_removed")
    assert event.changes == {"members": {"added": [], "removed": [member.user.email]}}
    assert AuditEvent.objects.filter(action="connection.disabled").count() == 1


def test_a_person_in_another_allowed_group_keeps_the_connection(org, member, support, helpdesk):
    other = group_create(organization=org, name="Escalations", actor=SYSTEM)
    group_members_add(group=other, membership_ids=[member.pk], actor=SYSTEM)
    connector_access_set(
        connector=helpdesk,
        who_may_connect="groups",
        group_ids=[support.pk, other.pk],
        actor=SYSTEM,
    )
    connection_enable(membership=member, connector=helpdesk, actor=SYSTEM)

    group_members_remove(group=support, membership_ids=[member.pk], actor=SYSTEM)

    assert Connection.objects.get(membership=member).state == Connection.State.ENABLED


def test_deleting_a_group_used_for_access_ends_the_connections_it_let_in(member, support, helpdesk):
    connection_enable(membership=member, connector=helpdesk, actor=SYSTEM)

    group_delete(group=support, actor=SYSTEM)

    assert not ScimGroup.objects.filter(pk=support.pk).exists()
    assert Connection.objects.get(membership=member).state == Connection.State.DISABLED
    helpdesk.refresh_from_db()
    assert helpdesk.who_may_connect == "groups"
    assert list(helpdesk.access_groups.all()) == []
    event = AuditEvent.objects.get(action="group.deleted")
    assert event.changes["connectors"] == {"before": ["Helpdesk"], "after": []}


def test_a_member_of_another_organization_cannot_be_added(support, other_member):
    with pytest.raises(ServiceError, match="no member"):
        group_members_add(group=support, membership_ids=[other_member.pk], actor=SYSTEM)
    with pytest.raises(ServiceError, match="not a member"):
        group_members_add(group=support, membership_ids=["x"], actor=SYSTEM)


def test_a_scim_group_is_changed_only_at_the_identity_provider(org, member):
    scim_group = scim_group_create(
        organization=org,
        team=ScimTeam(display_name="Engineering", external_id="", member_ids=[], document={}),
        actor=SYSTEM,
    )

    for change in (
        lambda: group_rename(group=scim_group, name="Eng", actor=SYSTEM),
        lambda: group_members_add(group=scim_group, membership_ids=[member.pk], actor=SYSTEM),
        lambda: group_delete(group=scim_group, actor=SYSTEM),
    ):
        with pytest.raises(ServiceError, match="managed by your identity provider"):
            change()
    assert ScimGroup.objects.get(pk=scim_group.pk).display_name == "Engineering"


def test_a_dashboard_group_mapped_to_a_role_gives_it_to_its_people_and_back(
    org, member, support, owner
):
    assert group_role_preview(group=support, role="auditor") == [
        {"email": member.user.email, "before": "member", "after": "auditor"}
    ]

    group_role_set(group=support, role="auditor", actor=SYSTEM)
    assert Membership.objects.get(pk=member.pk).role == "auditor"

    group_members_remove(group=support, membership_ids=[member.pk], actor=SYSTEM)
    assert Membership.objects.get(pk=member.pk).role == "member"


def test_the_identity_provider_neither_sees_nor_changes_a_dashboard_group(org, support):
    scim = Scim(org)

    listed = scim.request("GET", "Groups")
    searched = scim.request(
        "POST", ".search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}
    )
    read = scim.request("GET", f"Groups/{support.pk}")
    patched = scim.request(
        "PATCH",
        f"Groups/{support.pk}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"displayName": "X"}}]},
    )
    replaced = scim.request(
        "PUT",
        f"Groups/{support.pk}",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "X"},
    )
    deleted = scim.request("DELETE", f"Groups/{support.pk}")

    assert listed.status_code == 200
    assert listed.json()["totalResults"] == 0
    assert searched.json()["totalResults"] == 0
    assert [read.status_code, patched.status_code, replaced.status_code] == [404, 404, 404]
    assert deleted.status_code == 404
    support.refresh_from_db()
    assert support.display_name == "Support"
    assert support.dashboard_members.count() == 1


def test_the_groups_page_lists_both_kinds_and_changes_only_the_dashboards(
    org, owner, member, support
):
    scim_group_create(
        organization=org,
        team=ScimTeam(display_name="Engineering", external_id="", member_ids=[], document={}),
        actor=SYSTEM,
    )
    browser = Client()
    browser.force_login(owner.user)

    page = browser.get("/orgs/acme/groups/").content.decode()
    made = browser.post("/orgs/acme/groups/", {"name": "Night shift"})
    renamed = browser.post(f"/orgs/acme/groups/{support.pk}/rename/", {"name": "Help"})
    refused = browser.post("/orgs/acme/groups/", {"name": "engineering"})

    assert "Made in the dashboard" in page and "From your identity provider (SCIM)" in page
    assert member.user.email in page
    assert page.count("Rename</button>") == 1  # Support's only: Engineering's is read-only
    assert made.status_code == 302
    assert ScimGroup.objects.filter(display_name="Night shift", source="dashboard").exists()
    assert renamed.status_code == 302
    assert ScimGroup.objects.get(pk=support.pk).display_name == "Help"
    assert refused.status_code == 400
    assert "already a group named" in refused.content.decode()
