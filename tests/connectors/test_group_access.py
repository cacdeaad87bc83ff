"""Connector access by group: owners choose who may connect; people outside the chosen groups
do not see the connector, cannot enable it (403 with the reason), and lose their connection when
they leave the group or the choice narrows."""

import pytest
from django.test import Client

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.group_access import ConnectorAccessRefused, connector_access_set
from orgconnectors.connectors.models import Connection
from orgconnectors.connectors.selectors import connectors_for_member
from orgconnectors.core.actor import Actor
from orgconnectors.identity.services import ScimTeam, scim_group_create
from tests.api.conftest import token_client
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.scim.helpers import PATCH_OP, Scim, provisioned

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def engineering(org, owner, member):
    """A SCIM group holding the owner; the member is provisioned but not in it."""
    provisioned(member)
    return scim_group_create(
        organization=org,
        team=ScimTeam(
            display_name="Engineering",
            external_id="",
            member_ids=[str(provisioned(owner).pk)],
            document={"displayName": "Engineering"},
        ),
        actor=SYSTEM,
    )


@pytest.fixture
def tracker(org, engineering):
    connector = ConnectorFactory(organization=org, name="Tracker")
    connector_access_set(
        connector=connector, who_may_connect="groups", group_ids=[engineering.pk], actor=SYSTEM
    )
    return connector


def test_a_member_outside_the_groups_does_not_see_the_connector(owner, member, tracker):
    wiki = ConnectorFactory(organization=member.organization, name="Wiki")

    assert [row.connector for row in connectors_for_member(membership=member)] == [wiki]
    assert tracker in [row.connector for row in connectors_for_member(membership=owner)]
    client = Client()
    client.force_login(member.user)
    assert "Tracker" not in client.get("/orgs/acme/my-connectors/").content.decode()


def test_a_member_outside_the_groups_cannot_enable_it_and_is_told_why(member, tracker, actor):
    with pytest.raises(ConnectorAccessRefused, match="Engineering"):
        connection_enable(membership=member, connector=tracker, actor=SYSTEM)

    refused = token_client(member, actor=actor).put(
        f"/api/v1/orgs/acme/connectors/{tracker.pk}/connection"
    )

    assert refused.status_code == 403
    assert "Only members of chosen groups may connect Tracker" in refused.json()["detail"]
    assert not Connection.objects.filter(membership=member).exists()


def test_a_member_in_the_group_connects(owner, tracker):
    connection = connection_enable(membership=owner, connector=tracker, actor=SYSTEM)

    assert connection.state == Connection.State.ENABLED


def test_leaving_the_group_over_scim_ends_the_connection(org, owner, tracker, engineering):
    connection_enable(membership=owner, connector=tracker, actor=SYSTEM)
    owner_scim = owner.user.scim_users.get()

    response = Scim(org).request(
        "PATCH",
        f"Groups/{engineering.pk}",
        {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "remove", "path": f'members[value eq "{owner_scim.pk}"]'}],
        },
    )

    assert response.status_code == 200, response.content
    connection = Connection.objects.get(membership=owner, connector=tracker)
    assert connection.state == Connection.State.DISABLED
    assert "Only members of chosen groups" in connection.state_reason
    assert AuditEvent.objects.filter(action="connection.disabled").count() == 1


def test_deleting_the_group_ends_the_connections_it_allowed(org, owner, tracker, engineering):
    connection_enable(membership=owner, connector=tracker, actor=SYSTEM)

    Scim(org).request("DELETE", f"Groups/{engineering.pk}")

    assert Connection.objects.get(membership=owner).state == Connection.State.DISABLED


def test_narrowing_who_may_connect_ends_the_connections_left_out(org, owner, member):
    provisioned(member)
    connector = ConnectorFactory(organization=org, name="Wiki")
    ConnectionFactory(membership=member, connector=connector)
    ConnectionFactory(membership=owner, connector=connector)
    empty = scim_group_create(
        organization=org,
        team=ScimTeam(display_name="Nobody", external_id="", member_ids=[], document={}),
        actor=SYSTEM,
    )

    connector_access_set(
        connector=connector, who_may_connect="groups", group_ids=[empty.pk], actor=SYSTEM
    )

    states = set(Connection.objects.values_list("state", flat=True))
    assert states == {Connection.State.DISABLED}
    event = AuditEvent.objects.get(action="connector.access_changed")
    assert event.changes["who_may_connect"] == {"before": "everyone", "after": "groups"}


def test_owners_choose_groups_through_the_api_and_another_orgs_group_is_refused(
    owner, other_org, actor
):
    connector = ConnectorFactory(organization=owner.organization)
    foreign = scim_group_create(
        organization=other_org,
        team=ScimTeam(display_name="Globex", external_id="", member_ids=[], document={}),
        actor=SYSTEM,
    )
    client = token_client(owner, actor=actor)

    refused = client.put(
        f"/api/v1/orgs/acme/connectors/{connector.pk}/access",
        {"who_may_connect": "groups", "groups": [str(foreign.pk)]},
    )
    chosen = client.put(
        f"/api/v1/orgs/acme/connectors/{connector.pk}/access",
        {"who_may_connect": "groups", "groups": []},
    )

    assert refused.status_code == 400
    assert "no group" in refused.json()["detail"]
    assert chosen.status_code == 200
    assert chosen.json() == {"who_may_connect": "groups", "groups": []}


def test_an_owner_chooses_groups_on_the_connectors_page(org, owner, member, engineering):
    connector = ConnectorFactory(organization=org, name="Wiki")
    ConnectionFactory(membership=member, connector=connector)
    browser = Client()
    browser.force_login(owner.user)
    assert (
        "Who may connect" in browser.get(f"/orgs/acme/connectors/{connector.pk}/").content.decode()
    )

    saved = browser.post(
        f"/orgs/acme/connectors/{connector.pk}/access/",
        {"who_may_connect": "groups", "groups": [str(engineering.pk)]},
    )

    assert saved.status_code == 302
    connector.refresh_from_db()
    assert connector.who_may_connect == "groups"
    assert list(connector.access_groups.all()) == [engineering]
    assert Connection.objects.get(membership=member).state == Connection.State.DISABLED
