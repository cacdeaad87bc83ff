import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from tests.factories import ConnectionFactory, ConnectorFactory

MINE = reverse("my_connectors", args=["acme"])


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def on_free(org, plan):
    org.plan = plan("free")
    org.save(update_fields=["plan"])
    return org


def test_a_refused_connect_shows_the_limit_and_changes_nothing(member, on_free):
    wiki = ConnectorFactory(organization=on_free, name="Wiki")
    tracker = ConnectorFactory(organization=on_free, name="Tracker")
    ConnectionFactory(membership=member, connector=wiki)
    connections_before = list(Connection.objects.values("pk", "connector", "state", "enabled_at"))
    events_before = AuditEvent.objects.count()

    response = signed_in(member).post(reverse("connection_enable", args=["acme", tracker.pk]))

    assert response.status_code == 409
    html = response.content.decode()
    assert (
        escape(
            "The Free plan allows 1 enabled connection at a time, and you already have 1: Wiki. "
            "Disconnect one before connecting Tracker."
        )
        in html
    )
    assert "1 of 1</strong> connection in use" in html
    assert list(Connection.objects.values("pk", "connector", "state", "enabled_at")) == (
        connections_before
    )
    assert AuditEvent.objects.count() == events_before


def test_connecting_and_disconnecting_come_back_to_the_page_with_a_message(member, org):
    wiki = ConnectorFactory(organization=org, name="Wiki")
    client = signed_in(member)

    connected = client.post(reverse("connection_enable", args=["acme", wiki.pk]), follow=True)
    assert connected.redirect_chain == [(MINE, 302)]
    assert "Wiki is connected." in connected.content.decode()
    assert "1 of 10</strong> connections in use" in connected.content.decode()

    disconnected = client.post(reverse("connection_disable", args=["acme", wiki.pk]), follow=True)
    assert "Wiki is disconnected." in disconnected.content.decode()
    assert Connection.objects.get().state == Connection.State.DISABLED


def test_the_page_says_why_a_connection_was_suspended(member, org):
    wiki = ConnectorFactory(organization=org, name="Wiki")
    ConnectionFactory(
        membership=member,
        connector=wiki,
        state=Connection.State.SUSPENDED,
        state_reason="Suspended when the organization moved to the Free plan.",
    )

    html = signed_in(member).get(MINE).content.decode()

    assert "Suspended by a plan change" in html
    assert "Suspended when the organization moved to the Free plan." in html
    assert "Connect again" in html


def test_a_member_sees_only_their_own_connections(member, owner, org):
    wiki = ConnectorFactory(organization=org, name="Wiki")
    ConnectionFactory(membership=owner, connector=wiki)

    html = signed_in(member).get(MINE).content.decode()

    assert "0 of 10</strong> connections in use" in html
    assert "Not connected" in html
