"""Owners ask the operator for another plan: recorded, audited, emailed; the operator applies."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.models import OperatorToken, Plan, PlanChangeRequest
from orgconnectors.organizations.operator_tokens import operator_token_create
from orgconnectors.organizations.plan_requests import (
    plan_change_request_apply,
    plan_change_request_create,
)
from tests.api.conftest import token_client
from tests.factories import ConnectionFactory, ConnectorFactory

Status = PlanChangeRequest.Status


@pytest.fixture
def ask(org, owner, actor, eager_celery, django_capture_on_commit_callbacks):
    """ask(plan_code, **fields) -> the request, with its email sent as on commit."""

    def make(code="enterprise", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return plan_change_request_create(
                organization=org, plan=Plan.objects.get(code=code), actor=actor(owner), **fields
            )

    return make


def test_a_request_is_recorded_audited_and_emailed_to_the_operators(ask, org, settings, mailoutbox):
    settings.ORGCONNECTORS_OPERATOR_EMAILS = ["ops@example.com", "billing@example.com"]

    request = ask("enterprise", connection_limit=40, message="We hired forty engineers.")

    assert (request.status, request.requested_by_email) == (Status.PENDING, "owner@acme.test")
    event = AuditEvent.objects.get(organization=org, action="plan_change.requested")
    assert event.actor_label == "owner@acme.test"
    assert event.changes == {
        "plan": {"before": "team", "after": "enterprise"},
        "limit": {"before": 10, "after": 40},
    }
    [mail] = mailoutbox
    assert mail.to == ["ops@example.com", "billing@example.com"]
    assert mail.subject == "Plan change requested for Acme"
    assert "owner@acme.test asks to move Acme (acme) from Team" in mail.body
    assert "We hired forty engineers." in mail.body
    assert f"/admin/organizations/planchangerequest/{request.pk}/change/" in mail.body
    # Asking changes nothing.
    org.refresh_from_db()
    assert org.plan.code == "team"


def test_without_operator_emails_the_request_goes_to_the_admins(ask, settings, mailoutbox):
    settings.ORGCONNECTORS_OPERATOR_EMAILS = []
    settings.ADMINS = [("Ops", "root@example.com")]

    ask("free")

    [mail] = mailoutbox
    assert mail.to == ["root@example.com"]


def test_the_email_leaves_only_once_the_request_is_committed(org, owner, actor, plan, mailoutbox):
    plan_change_request_create(organization=org, plan=plan("free"), actor=actor(owner))

    assert mailoutbox == []


def test_a_newer_request_replaces_the_waiting_one(ask):
    first = ask("enterprise")
    second = ask("free")

    first.refresh_from_db()
    assert (first.status, second.status) == (Status.REPLACED, Status.PENDING)


def test_a_limit_the_plan_does_not_take_is_refused(org, owner, actor, plan):
    with pytest.raises(OrganizationError, match="Only plans that allow an override") as refused:
        plan_change_request_create(
            organization=org, plan=plan("pro"), connection_limit=40, actor=actor(owner)
        )

    assert refused.value.field == "limit"
    assert not PlanChangeRequest.objects.exists()


def test_owners_ask_through_the_api(
    org, owner, actor, settings, mailoutbox, eager_celery, django_capture_on_commit_callbacks
):
    settings.ORGCONNECTORS_OPERATOR_EMAILS = ["ops@example.com"]
    client = token_client(owner, actor=actor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/orgs/acme/plan-requests",
            {"plan": "enterprise", "connection_limit": 40, "message": "Please."},
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["plan"], body["connection_limit"], body["status"]) == ("enterprise", 40, "pending")
    assert body["requested_by"] == "owner@acme.test"
    assert [m.to for m in mailoutbox] == [["ops@example.com"]]
    org.refresh_from_db()
    assert org.plan.code == "team"


def test_the_operator_applies_a_request_through_the_plan_change(ask, org, member, actor):
    for name in ("Alpha", "Beta"):
        connector = ConnectorFactory(organization=org, name=name)
        ConnectionFactory(membership=member, connector=connector)
    request = ask("free")

    result = plan_change_request_apply(request=request, actor=actor(None))

    assert result.suspended_count == 1
    org.refresh_from_db()
    request.refresh_from_db()
    assert org.plan.code == "free"
    assert request.status == Status.APPLIED
    assert Connection.objects.filter(state=Connection.State.SUSPENDED).count() == 1
    with pytest.raises(OrganizationError, match="only a waiting request can be applied"):
        plan_change_request_apply(request=request, actor=actor(None))


@pytest.fixture
def operator_admin(db) -> Client:
    user = get_user_model().objects.create_superuser(email="ops@example.com", password="x-1")
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_lists_requests_and_its_action_applies_one(ask, org, operator_admin):
    request = ask("enterprise", connection_limit=40)
    changelist = reverse("admin:organizations_planchangerequest_changelist")

    listed = operator_admin.get(changelist)
    response = operator_admin.post(
        changelist, {"action": "apply", "_selected_action": [request.pk]}, follow=True
    )

    assert "Acme" in listed.content.decode()
    assert "Applied 1 request(s)." in response.content.decode()
    org.refresh_from_db()
    assert (org.plan.code, org.max_enabled_connections) == ("enterprise", 40)
    event = AuditEvent.objects.get(organization=org, action="organization.plan_changed")
    assert event.actor_label == "ops@example.com"


def test_the_admin_declines_a_request_and_the_owner_can_read_it_in_the_trail(
    ask, org, operator_admin
):
    request = ask("enterprise")

    operator_admin.post(
        reverse("admin:organizations_planchangerequest_changelist"),
        {"action": "decline", "_selected_action": [request.pk]},
    )

    request.refresh_from_db()
    org.refresh_from_db()
    assert (request.status, org.plan.code) == (Status.DECLINED, "team")
    assert AuditEvent.objects.filter(organization=org, action="plan_change.declined").exists()


def test_the_admin_pages_of_requests_and_operator_tokens_open_without_the_hash(ask, operator_admin):
    request = ask("enterprise")
    operator_token, _token = operator_token_create(name="billing system")

    pages = [
        reverse("admin:organizations_planchangerequest_change", args=[request.pk]),
        reverse("admin:organizations_operatortoken_changelist"),
        reverse("admin:organizations_operatortoken_change", args=[operator_token.pk]),
    ]
    for page in pages:
        response = operator_admin.get(page)
        assert response.status_code == 200, page
        assert OperatorToken.objects.get().token_hash not in response.content.decode()
