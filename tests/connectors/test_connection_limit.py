import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.connections import connection_disable, connection_enable
from orgconnectors.connectors.errors import ConnectionLimitReached, ConnectorError
from orgconnectors.connectors.models import Connection, Connector
from tests.factories import ConnectionFactory, ConnectorFactory

State = Connection.State


@pytest.fixture
def free_org(org, plan):
    org.plan = plan("free")
    org.save()
    return org


def in_use(membership):
    return list(
        Connection.objects.filter(membership=membership, state__in=Connection.IN_USE)
        .order_by("connector__name")
        .values_list("connector__name", flat=True)
    )


def test_it_enables_a_first_connection_on_free(free_org, member, actor):
    notion = ConnectorFactory(organization=free_org, name="Notion")

    connection = connection_enable(membership=member, connector=notion, actor=actor(member))

    assert connection.state == State.ENABLED
    assert connection.enabled_at is not None
    assert in_use(member) == ["Notion"]
    event = AuditEvent.objects.get(action="connection.enabled")
    assert event.organization == free_org
    assert event.actor == member.user
    assert event.target_type == "connection"
    assert event.target_id == str(connection.pk)
    assert event.target_label == "member@acme.test · Notion"
    assert event.changes == {"state": {"before": None, "after": "enabled"}}


def test_it_refuses_a_second_connection_on_free(free_org, member, actor):
    notion = ConnectorFactory(organization=free_org, name="Notion")
    linear = ConnectorFactory(organization=free_org, name="Linear")
    connection_enable(membership=member, connector=notion, actor=actor(member))

    with pytest.raises(ConnectionLimitReached) as refused:
        connection_enable(membership=member, connector=linear, actor=actor(member))

    assert refused.value.limit == 1
    assert refused.value.enabled == [notion.pk]
    assert refused.value.status == 409
    assert refused.value.code == "connection_limit_reached"
    message = refused.value.message
    assert "The Free plan allows 1 enabled connection at a time" in message
    assert "you already have 1: Notion" in message
    assert "Disconnect one before connecting Linear" in message
    # Nothing changed: no connection to Linear, one audit event (for Notion) only.
    assert not Connection.objects.filter(connector=linear).exists()
    assert in_use(member) == ["Notion"]
    assert AuditEvent.objects.filter(action="connection.enabled").count() == 1


def test_the_refusal_lists_every_connection_in_use(org, plan, member, actor):
    org.plan = plan("enterprise")
    org.connection_limit_override = 2
    org.save()
    asana = ConnectionFactory(membership=member, connector__name="Asana")
    sentry = ConnectionFactory(membership=member, connector__name="Sentry")
    stripe = ConnectorFactory(organization=org, name="Stripe")

    with pytest.raises(ConnectionLimitReached) as refused:
        connection_enable(membership=member, connector=stripe, actor=actor(member))

    assert refused.value.limit == 2
    assert sorted(refused.value.enabled) == sorted([asana.connector_id, sentry.connector_id])
    assert "The Enterprise plan allows 2 enabled connections at a time" in refused.value.message
    assert "Asana" in refused.value.message
    assert "Sentry" in refused.value.message


def test_an_oauth_connector_waits_for_authorization_and_counts_against_the_limit(
    free_org, member, actor
):
    notion = ConnectorFactory(organization=free_org, name="Notion", auth=Connector.Auth.OAUTH)
    linear = ConnectorFactory(organization=free_org, name="Linear")

    connection = connection_enable(membership=member, connector=notion, actor=actor(member))

    assert connection.state == State.NEEDS_AUTHORIZATION
    assert connection.state_reason
    with pytest.raises(ConnectionLimitReached):
        connection_enable(membership=member, connector=linear, actor=actor(member))
    assert not Connection.objects.filter(connector=linear).exists()


@pytest.mark.parametrize("state", [State.SUSPENDED, State.DISABLED])
def test_suspended_and_disabled_connections_do_not_count(free_org, member, actor, state):
    ConnectionFactory(membership=member, connector__name="Asana", state=state)
    linear = ConnectorFactory(organization=free_org, name="Linear")

    connection = connection_enable(membership=member, connector=linear, actor=actor(member))

    assert connection.state == State.ENABLED
    assert in_use(member) == ["Linear"]


def test_enabling_the_same_connector_twice_is_idempotent(free_org, member, actor):
    notion = ConnectorFactory(organization=free_org, name="Notion")

    first = connection_enable(membership=member, connector=notion, actor=actor(member))
    second = connection_enable(membership=member, connector=notion, actor=actor(member))

    assert second.pk == first.pk
    assert second.state == State.ENABLED
    assert Connection.objects.filter(membership=member).count() == 1
    assert AuditEvent.objects.filter(action="connection.enabled").count() == 1


def test_disconnecting_frees_the_place_for_another(free_org, member, actor):
    notion = ConnectorFactory(organization=free_org, name="Notion")
    linear = ConnectorFactory(organization=free_org, name="Linear")
    connection_enable(membership=member, connector=notion, actor=actor(member))

    connection_disable(membership=member, connector=notion, actor=actor(member))
    connection_enable(membership=member, connector=linear, actor=actor(member))

    assert in_use(member) == ["Linear"]
    assert Connection.objects.get(connector=notion).state == State.DISABLED
    disabled = AuditEvent.objects.get(action="connection.disabled")
    assert disabled.changes == {"state": {"before": "enabled", "after": "disabled"}}


def test_reconnecting_a_disconnected_connector_reuses_its_row(free_org, member, actor):
    notion = ConnectorFactory(organization=free_org, name="Notion")
    connection_enable(membership=member, connector=notion, actor=actor(member))
    connection_disable(membership=member, connector=notion, actor=actor(member))

    connection = connection_enable(membership=member, connector=notion, actor=actor(member))

    assert Connection.objects.filter(membership=member).count() == 1
    assert connection.state == State.ENABLED
    last = AuditEvent.objects.filter(action="connection.enabled").order_by("-id").first()
    assert last.changes == {"state": {"before": "disabled", "after": "enabled"}}


def test_disconnecting_what_is_not_connected_changes_nothing(free_org, member, actor):
    notion = ConnectorFactory(organization=free_org, name="Notion")

    assert connection_disable(membership=member, connector=notion, actor=actor(member)) is None
    assert not AuditEvent.objects.exists()


def test_the_limit_is_per_member(free_org, member, owner, actor):
    notion = ConnectorFactory(organization=free_org, name="Notion")

    connection_enable(membership=member, connector=notion, actor=actor(member))
    connection_enable(membership=owner, connector=notion, actor=actor(owner))

    assert in_use(member) == ["Notion"]
    assert in_use(owner) == ["Notion"]


def test_an_auditor_cannot_connect(org, auditor, actor):
    notion = ConnectorFactory(organization=org, name="Notion")

    with pytest.raises(ConnectorError, match="Auditors review connectors"):
        connection_enable(membership=auditor, connector=notion, actor=actor(auditor))

    assert not Connection.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_connector_of_another_organization_is_refused(member, other_org, actor):
    foreign = ConnectorFactory(organization=other_org)

    with pytest.raises(ConnectorError) as refused:
        connection_enable(membership=member, connector=foreign, actor=actor(member))

    assert refused.value.field == "connector"
    assert not Connection.objects.exists()
