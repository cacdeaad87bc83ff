from datetime import timedelta

import pytest
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.errors import ConnectionLimitReached
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.plan_change import (
    organization_change_plan,
    plan_change_preview,
)
from tests.factories import ConnectionFactory, ConnectorFactory

State = Connection.State


@pytest.fixture
def enterprise_org(org, plan):
    org.plan = plan("enterprise")
    org.connection_limit_override = 5
    org.save()
    return org


def connect(membership, name, *, minutes_ago, state=State.ENABLED):
    return ConnectionFactory(
        membership=membership,
        connector__name=name,
        state=state,
        enabled_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def four_connections(enterprise_org, member):
    """The member's connections, oldest first: Asana, Linear, Notion, Sentry."""
    return [
        connect(member, name, minutes_ago=minutes)
        for name, minutes in (("Asana", 40), ("Linear", 30), ("Notion", 20), ("Sentry", 10))
    ]


def states(membership):
    return dict(
        Connection.objects.filter(membership=membership).values_list("connector__name", "state")
    )


def test_the_preview_lists_who_loses_which_connection(
    enterprise_org, plan, member, owner, four_connections
):
    connect(owner, "Stripe", minutes_ago=5)

    preview = plan_change_preview(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=2
    )

    assert preview.old_limit == 5
    assert preview.new_limit == 2
    assert [impact.membership for impact in preview.affected] == [member]
    impact = preview.affected[0]
    assert [c.connector.name for c in impact.kept] == ["Sentry", "Notion"]
    assert [c.connector.name for c in impact.suspended] == ["Linear", "Asana"]
    assert preview.suspended_count == 2
    # A preview changes nothing.
    assert set(states(member).values()) == {State.ENABLED}
    assert not AuditEvent.objects.exists()


def test_a_downgrade_keeps_the_most_recently_enabled_and_suspends_the_rest(
    enterprise_org, plan, owner, member, four_connections, actor
):
    preview = plan_change_preview(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=2
    )

    result = organization_change_plan(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=2, actor=actor(owner)
    )

    assert states(member) == {
        "Asana": State.SUSPENDED,
        "Linear": State.SUSPENDED,
        "Notion": State.ENABLED,
        "Sentry": State.ENABLED,
    }
    suspended = Connection.objects.filter(state=State.SUSPENDED)
    for connection in suspended:
        assert "Enterprise plan" in connection.state_reason
        assert "2 connections at a time" in connection.state_reason
    # Never deleted.
    assert Connection.objects.filter(membership=member).count() == 4
    # What the change did is what the preview announced.
    announced = {c.pk for impact in preview.impacts for c in impact.suspended}
    assert {c.pk for c in suspended} == announced
    assert {c.pk for impact in result.impacts for c in impact.suspended} == announced
    enterprise_org.refresh_from_db()
    assert enterprise_org.max_enabled_connections == 2


def test_a_move_to_a_plan_with_a_lower_limit_suspends_too(
    enterprise_org, plan, owner, member, four_connections, actor
):
    team = plan("team")
    team.max_enabled_connections = 2
    team.save()

    organization_change_plan(organization=enterprise_org, plan=team, actor=actor(owner))

    enterprise_org.refresh_from_db()
    assert enterprise_org.plan == team
    # An override belongs to Enterprise only; it does not follow the organization to Team.
    assert enterprise_org.connection_limit_override is None
    assert states(member)["Asana"] == State.SUSPENDED
    assert states(member)["Linear"] == State.SUSPENDED
    assert "Team plan" in Connection.objects.filter(state=State.SUSPENDED).first().state_reason


def test_connections_waiting_for_authorization_count_as_in_use(
    enterprise_org, plan, owner, member, actor
):
    connect(member, "Asana", minutes_ago=30)
    connect(member, "Notion", minutes_ago=10, state=State.NEEDS_AUTHORIZATION)

    organization_change_plan(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=1, actor=actor(owner)
    )

    assert states(member) == {"Asana": State.SUSPENDED, "Notion": State.NEEDS_AUTHORIZATION}


def test_the_plan_change_is_audited_with_before_and_after(
    enterprise_org, plan, owner, four_connections, actor
):
    organization_change_plan(
        organization=enterprise_org,
        plan=plan("enterprise"),
        limit_override=2,
        actor=actor(owner, ip="198.51.100.4", user_agent="Firefox"),
    )

    event = AuditEvent.objects.get(action="organization.plan_changed")
    assert event.organization == enterprise_org
    assert event.actor == owner.user
    assert event.target_type == "organization"
    assert event.target_id == str(enterprise_org.pk)
    assert (event.ip, event.user_agent) == ("198.51.100.4", "Firefox")
    assert event.changes["plan"] == {"before": "enterprise", "after": "enterprise"}
    assert event.changes["limit"] == {"before": 5, "after": 2}
    asana, linear = four_connections[0], four_connections[1]
    assert sorted(event.changes["suspended_connections"]["after"]) == sorted([asana.pk, linear.pk])


def test_moving_back_up_does_not_re_enable_suspended_connections(
    enterprise_org, plan, owner, member, four_connections, actor
):
    organization_change_plan(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=2, actor=actor(owner)
    )

    preview = plan_change_preview(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=5
    )
    organization_change_plan(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=5, actor=actor(owner)
    )

    assert preview.affected == []
    assert states(member)["Asana"] == State.SUSPENDED
    assert states(member)["Linear"] == State.SUSPENDED


def test_a_suspended_connection_can_be_enabled_again_within_the_limit(
    enterprise_org, plan, owner, member, four_connections, actor
):
    organization_change_plan(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=2, actor=actor(owner)
    )
    asana = four_connections[0].connector

    # Still at the limit: the suspended one waits.
    with pytest.raises(ConnectionLimitReached):
        connection_enable(membership=member, connector=asana, actor=actor(member))

    organization_change_plan(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=3, actor=actor(owner)
    )
    connection = connection_enable(membership=member, connector=asana, actor=actor(member))

    assert connection.pk == four_connections[0].pk
    assert connection.state == State.ENABLED
    assert connection.state_reason == ""
    assert states(member)["Linear"] == State.SUSPENDED
    event = AuditEvent.objects.get(action="connection.enabled")
    assert event.changes == {"state": {"before": "suspended", "after": "enabled"}}


def test_an_upgrade_with_room_for_everyone_suspends_nothing(org, plan, owner, member, actor):
    org.plan = plan("free")
    org.save()
    connect(member, "Notion", minutes_ago=5)

    result = organization_change_plan(organization=org, plan=plan("team"), actor=actor(owner))

    assert result.suspended_count == 0
    assert states(member) == {"Notion": State.ENABLED}
    org.refresh_from_db()
    assert org.max_enabled_connections == 10


def test_an_override_is_refused_on_a_plan_without_one(org, plan, owner, actor):
    with pytest.raises(OrganizationError) as refused:
        organization_change_plan(
            organization=org, plan=plan("team"), limit_override=3, actor=actor(owner)
        )

    assert refused.value.field == "limit"
    assert "Team uses 10" in refused.value.message
    assert not AuditEvent.objects.exists()


def test_an_override_below_one_is_refused(enterprise_org, plan):
    with pytest.raises(OrganizationError, match="at least 1") as refused:
        plan_change_preview(organization=enterprise_org, plan=plan("enterprise"), limit_override=0)

    assert refused.value.field == "limit"


def test_other_organizations_are_untouched(
    enterprise_org, plan, owner, other_member, four_connections, actor
):
    for minutes in (1, 2, 3):
        connect(other_member, f"Globex {minutes}", minutes_ago=minutes)

    preview = plan_change_preview(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=1
    )
    organization_change_plan(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=1, actor=actor(owner)
    )

    assert all(impact.membership.organization == enterprise_org for impact in preview.impacts)
    assert set(states(other_member).values()) == {State.ENABLED}


def test_the_limit_of_a_new_enable_is_the_new_plans(enterprise_org, plan, owner, member, actor):
    organization_change_plan(
        organization=enterprise_org, plan=plan("enterprise"), limit_override=1, actor=actor(owner)
    )
    notion, linear = ConnectorFactory.create_batch(2, organization=enterprise_org)
    connection_enable(membership=member, connector=notion, actor=actor(member))

    with pytest.raises(ConnectionLimitReached) as refused:
        connection_enable(membership=member, connector=linear, actor=actor(member))

    assert refused.value.limit == 1
