import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection, Connector
from tests.factories import ConnectionFactory, ConnectorFactory

ACME = "/api/v1/orgs/acme"


def connection_of(connector) -> str:
    return f"{ACME}/connectors/{connector.pk}/connection"


@pytest.fixture
def on_free(org, plan):
    org.plan = plan("free")
    org.save(update_fields=["plan"])
    return org


def test_it_connects_the_caller(as_member, member, org):
    wiki = ConnectorFactory(organization=org)

    response = as_member.put(connection_of(wiki))

    assert response.status_code == 200
    assert response.json() == {"status": "enabled"}
    connection = Connection.objects.get()
    assert (connection.membership, connection.state) == (member, Connection.State.ENABLED)


def test_it_refuses_a_second_connection_on_free(as_member, member, on_free):
    wiki = ConnectorFactory(organization=on_free, name="Wiki")
    tracker = ConnectorFactory(organization=on_free, name="Tracker")
    assert as_member.put(connection_of(wiki)).status_code == 200
    connections_before = list(Connection.objects.values("pk", "connector", "state", "enabled_at"))
    events_before = AuditEvent.objects.count()

    response = as_member.put(connection_of(tracker))

    assert response.status_code == 409
    message = (
        "The Free plan allows 1 enabled connection at a time, and you already have 1: Wiki. "
        "Disconnect one before connecting Tracker."
    )
    assert response.json() == {
        "code": "connection_limit_reached",
        "detail": message,
        "errors": {"__all__": [message]},
        "limit": 1,
        "enabled": [wiki.pk],
    }
    assert list(Connection.objects.values("pk", "connector", "state", "enabled_at")) == (
        connections_before
    )
    assert AuditEvent.objects.count() == events_before
    usage = as_member.get(ACME).json()["usage"]
    assert usage == {"enabled_connections": 1}


def test_a_connection_waiting_for_authorization_counts_against_the_limit(as_member, on_free):
    tracker = ConnectorFactory(organization=on_free, auth=Connector.Auth.OAUTH)
    wiki = ConnectorFactory(organization=on_free)

    # The server is not reachable from here, so no authorize_url: the answer says why instead.
    answer = as_member.put(connection_of(tracker)).json()
    assert answer["status"] == "needs_authorization"
    assert "did not answer" in answer["reason"]
    response = as_member.put(connection_of(wiki))

    assert response.status_code == 409
    assert response.json()["enabled"] == [tracker.pk]


def test_disconnecting_frees_a_place(as_member, on_free):
    wiki = ConnectorFactory(organization=on_free)
    tracker = ConnectorFactory(organization=on_free)
    as_member.put(connection_of(wiki))

    response = as_member.delete(connection_of(wiki))

    assert response.status_code == 200
    assert response.json() == {"status": "disabled"}
    assert as_member.put(connection_of(tracker)).status_code == 200


def test_connecting_twice_connects_once(as_member, org):
    wiki = ConnectorFactory(organization=org)

    as_member.put(connection_of(wiki))
    response = as_member.put(connection_of(wiki))

    assert response.json() == {"status": "enabled"}
    assert Connection.objects.count() == 1
    assert AuditEvent.objects.filter(action="connection.enabled").count() == 1


def test_disconnecting_what_was_never_connected_is_harmless(as_member, org):
    wiki = ConnectorFactory(organization=org)

    response = as_member.delete(connection_of(wiki))

    assert response.status_code == 200
    assert response.json() == {"status": "disabled"}
    assert not AuditEvent.objects.filter(action="connection.disabled").exists()


def test_connections_lists_the_callers_own_connection_to_each_connector(
    as_member, member, owner, org
):
    wiki = ConnectorFactory(organization=org, name="Wiki")
    tracker = ConnectorFactory(organization=org, name="Tracker")
    ConnectionFactory(
        membership=member,
        connector=tracker,
        state=Connection.State.SUSPENDED,
        state_reason="Suspended when the organization moved to the Free plan.",
    )
    ConnectionFactory(membership=owner, connector=wiki)

    response = as_member.get(ACME + "/connections")

    assert response.status_code == 200
    rows = [
        (row["connector_id"], row["connector_name"], row["status"], row["reason"])
        for row in response.json()
    ]
    assert rows == [
        (
            tracker.pk,
            "Tracker",
            "suspended",
            "Suspended when the organization moved to the Free plan.",
        ),
        (wiki.pk, "Wiki", "disabled", ""),
    ]
