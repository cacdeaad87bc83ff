from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.models import PlanChangeRequest
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


def test_an_owner_cannot_change_the_plan_from_the_dashboard(owner, member, org):
    connector = ConnectorFactory(organization=org, name="Alpha")
    connect(member, connector, minutes_ago=20)

    # The address the plan page used to post to, and the one that asks the operator now.
    old = signed_in(owner).post("/orgs/acme/plan/change/", {"plan": "enterprise", "limit": "40"})
    asked = signed_in(owner).post(
        reverse("plan_request", args=["acme"]), {"plan": "free"}, follow=True
    )

    assert old.status_code == 404
    assert "Your request for Free was sent to the operator" in asked.content.decode()
    org.refresh_from_db()
    assert (org.plan.code, org.connection_limit_override) == ("team", None)
    assert not Connection.objects.filter(state=Connection.State.SUSPENDED).exists()


def test_the_preview_asks_the_operator_instead_of_confirming(owner, org):
    html = signed_in(owner).get(PREVIEW, {"plan": "enterprise", "limit": "40"}).content.decode()

    assert "Plans and limits are set by the operator of this deployment." in html
    assert f'action="{reverse("plan_request", args=["acme"])}"' in html
    assert "Confirm" not in html
    assert 'name="limit" value="40"' in html


def test_asking_records_the_request_and_the_plan_page_shows_it_waiting(
    owner, org, mailoutbox, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.ORGCONNECTORS_OPERATOR_EMAILS = ["ops@example.com"]
    client = signed_in(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("plan_request", args=["acme"]),
            {"plan": "enterprise", "limit": "40", "message": "We are growing."},
        )

    assert response.status_code == 302
    request = PlanChangeRequest.objects.get()
    assert (request.plan.code, request.connection_limit, request.message) == (
        "enterprise",
        40,
        "We are growing.",
    )
    [mail] = mailoutbox
    assert mail.to == ["ops@example.com"]
    page = client.get(reverse("plan", args=["acme"])).content.decode()
    assert "You asked for Enterprise with 40 connections per member" in page
    assert "the operator has not answered yet" in page


def test_a_message_too_long_is_explained_on_the_preview(owner, org):
    response = signed_in(owner).post(
        reverse("plan_request", args=["acme"]), {"plan": "free", "message": "x" * 2001}
    )

    assert response.status_code == 400
    assert "Keep the message under 2000 characters." in response.content.decode()
    assert not PlanChangeRequest.objects.exists()


def test_asking_for_the_plan_already_in_place_says_so(owner, org):
    response = signed_in(owner).post(reverse("plan_request", args=["acme"]), {"plan": "team"})

    assert response.status_code == 400
    assert "Acme is already on Team" in response.content.decode()
    assert not PlanChangeRequest.objects.exists()
