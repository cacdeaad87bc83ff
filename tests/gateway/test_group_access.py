"""Connector access by a group made in the dashboard, seen from the gateway: a member removed
from the group loses the connector's tools from the organization's listing at once."""

import pytest

from orgconnectors.connectors.group_access import connector_access_set
from orgconnectors.connectors.models import Connection
from orgconnectors.core.actor import Actor
from orgconnectors.identity.dashboard_groups import (
    group_create,
    group_members_add,
    group_members_remove,
)
from tests.gateway.test_organization import _listing, _org_url, two_connectors  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SYSTEM = Actor.system("tests")


def test_a_member_removed_from_a_dashboard_group_leaves_the_gateway_listing(
    member,
    gateway,
    two_connectors,  # noqa: F811
):
    issues, tracker = two_connectors
    support = group_create(organization=member.organization, name="Support", actor=SYSTEM)
    group_members_add(group=support, membership_ids=[member.pk], actor=SYSTEM)
    connector_access_set(
        connector=tracker.connector, who_may_connect="groups", group_ids=[support.pk], actor=SYSTEM
    )
    before = _listing(_org_url(gateway, member), issues.secret)
    assert "tracker__search" in [tool.name for tool in before.tools]

    group_members_remove(group=support, membership_ids=[member.pk], actor=SYSTEM)

    after = _listing(_org_url(gateway, member), issues.secret)
    assert [tool.name for tool in after.tools] == [
        "issues__fails",
        "issues__search",
        "issues__slow",
    ]
    connection = Connection.objects.get(membership=member, connector=tracker.connector)
    assert connection.state == Connection.State.DISABLED
