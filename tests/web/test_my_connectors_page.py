import re

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


def _card(html: str, name: str) -> str:
    """The words of the card of connector `name` on My connectors."""
    start = html.index(f'<h2 class="connection__name">{name}</h2>')
    card = html[start : html.index("</li>", start)]
    return " ".join(re.sub(r"<[^>]+>", " ", card).split())


def test_each_card_says_how_the_server_is_and_what_a_failing_one_means(org, member):
    healthy = ConnectorFactory(
        organization=org, name="Tracker", status="healthy", last_latency_ms=42
    )
    down = ConnectorFactory(
        organization=org, name="Billing", status="unreachable", last_error="connection refused"
    )
    oauth = ConnectorFactory(organization=org, name="Tasks", status="auth_required")
    ConnectorFactory(organization=org, name="Wiki", status="down", last_error="HTTP 503")
    ConnectionFactory(membership=member, connector=healthy)
    ConnectionFactory(membership=member, connector=down)
    ConnectionFactory(membership=member, connector=oauth)

    html = signed_in(member).get(MINE).content.decode()

    assert "Server: Healthy · 42 ms" in _card(html, "Tracker")
    assert "do not get it" not in _card(html, "Tracker")
    billing = _card(html, "Billing")
    assert "Connected Server: Unreachable — connection refused" in billing
    assert "Your apps do not get it in their configuration until its health checks pass" in billing
    # A server that asks for OAuth answers: members authorize for themselves.
    assert "Server: Answering · asks each member to authorize" in _card(html, "Tasks")
    # Not connected: the member learns the server fails before connecting, with no API note.
    wiki = _card(html, "Wiki")
    assert "Not connected Server: Down" in wiki and "do not get it" not in wiki
