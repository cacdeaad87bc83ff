from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.connectors.models import Connection
from tests.factories import ConnectionFactory, ConnectorFactory

PREVIEW = reverse("plan_preview", args=["acme"])


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def connect(membership, connector, *, minutes_ago: int):
    return ConnectionFactory(
        membership=membership,
        connector=connector,
        enabled_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_the_preview_lists_who_loses_which_connection_and_changes_nothing(owner, member, org):
    alpha, beta, gamma = (
        ConnectorFactory(organization=org, name=name) for name in ("Alpha", "Beta", "Gamma")
    )
    connect(member, alpha, minutes_ago=30)
    connect(member, beta, minutes_ago=20)
    connect(member, gamma, minutes_ago=10)
    connect(owner, alpha, minutes_ago=5)

    response = signed_in(owner).get(PREVIEW, {"plan": "free"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "2 connections of 1 member will be suspended." in html
    # The member keeps the most recently enabled and loses the two older ones.
    row = html[html.index("member@acme.test") : html.index("</tr>", html.index("member@acme.test"))]
    assert "<td>Gamma</td>" in row
    assert "Alpha" in row and "Beta" in row
    assert "owner@acme.test</th>" not in html
    assert 'name="plan" value="free"' in html
    assert not Connection.objects.filter(state=Connection.State.SUSPENDED).exists()
    org.refresh_from_db()
    assert org.plan.code == "team"


def test_the_preview_says_when_nobody_loses_anything(owner, member, org):
    connect(member, ConnectorFactory(organization=org), minutes_ago=1)

    html = signed_in(owner).get(PREVIEW, {"plan": "pro"}).content.decode()

    assert "No connection will be suspended" in html


def test_the_preview_refuses_a_limit_the_plan_does_not_take(owner):
    response = signed_in(owner).get(PREVIEW, {"plan": "pro", "limit": "40"})

    assert response.status_code == 400
    assert "Only plans that allow an override (Enterprise) take a custom limit" in (
        response.content.decode()
    )


def test_confirming_suspends_what_the_preview_said(owner, member, org):
    alpha, beta = (ConnectorFactory(organization=org, name=name) for name in ("Alpha", "Beta"))
    connect(member, alpha, minutes_ago=20)
    connect(member, beta, minutes_ago=10)

    response = signed_in(owner).post(
        reverse("plan_change", args=["acme"]), {"plan": "free"}, follow=True
    )

    assert "Moved to Free. 1 connection suspended." in response.content.decode()
    suspended = Connection.objects.get(state=Connection.State.SUSPENDED)
    assert suspended.connector == alpha
