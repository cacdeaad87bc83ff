"""The operator API: only an operator token changes plans; organizations' tokens cannot."""

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.models import OperatorToken, Plan, PlanChangeRequest
from orgconnectors.organizations.operator_tokens import (
    operator_token_create,
    operator_token_revoke,
)
from orgconnectors.organizations.plan_requests import plan_change_request_create
from tests.api.conftest import ApiClient, session_client, token_client
from tests.factories import ConnectionFactory, ConnectorFactory

ACME = "/api/v1/operator/orgs/acme"
PLAN = ACME + "/plan"
ENTERPRISE_40 = {"plan": "enterprise", "connection_limit": 40}


@pytest.fixture
def operator(db):
    _operator_token, token = operator_token_create(name="billing system")
    return ApiClient(Client(), token)


def test_an_operator_token_moves_an_organization_to_enterprise_with_its_own_limit(
    operator, org, owner
):
    response = operator.put(PLAN, ENTERPRISE_40)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["plan"], body["limit"], body["suspended"]) == ("enterprise", 40, [])
    org.refresh_from_db()
    assert (org.plan.code, org.max_enabled_connections) == ("enterprise", 40)
    event = AuditEvent.objects.get(organization=org, action="organization.plan_changed")
    assert event.actor is None
    assert event.actor_label == "operator (billing system)"
    assert event.changes["plan"] == {"before": "team", "after": "enterprise"}
    assert event.changes["limit"]["after"] == 40


def test_an_operator_downgrade_suspends_connections_beyond_the_new_limit(operator, org, member):
    for name in ("Alpha", "Beta"):
        connector = ConnectorFactory(organization=org, name=name)
        ConnectionFactory(membership=member, connector=connector)

    response = operator.put(PLAN, {"plan": "free"})

    assert response.status_code == 200
    [suspended] = response.json()["suspended"]
    assert suspended["member"] == "member@acme.test"
    assert len(suspended["connectors"]) == 1
    assert Connection.objects.filter(state=Connection.State.SUSPENDED).count() == 1


def test_the_operator_reads_an_organizations_plan_and_limits(operator, org):
    response = operator.get(ACME)

    assert response.status_code == 200
    body = response.json()
    assert (body["slug"], body["plan"], body["max_enabled_connections"]) == ("acme", "team", 10)
    assert body["audit_retention_days"] == 365
    assert body["audit_retention_grace"] is None
    assert body["pending_request"] is None


@pytest.mark.parametrize(
    "payload, field, message",
    [
        ({"plan": "platinum"}, "plan", "There is no plan 'platinum'"),
        ({"plan": "pro", "connection_limit": 40}, "limit", "Only plans that allow an override"),
        ({"plan": "enterprise", "connection_limit": 0}, "connection_limit", "no less than 1"),
    ],
)
def test_a_plan_or_limit_that_cannot_be_is_a_400_that_says_why(
    operator, org, payload, field, message
):
    response = operator.put(PLAN, payload)

    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])
    org.refresh_from_db()
    assert org.plan.code == "team"


def test_an_unknown_organization_is_a_404(operator):
    assert operator.get("/api/v1/operator/orgs/nowhere").status_code == 404


@pytest.mark.parametrize("auth", ["token", "session"])
def test_an_owners_token_or_session_cannot_use_the_operator_api(owner, org, actor, auth):
    client = token_client(owner, actor=actor) if auth == "token" else session_client(owner)

    response = client.put(PLAN, ENTERPRISE_40)
    read = client.get(ACME)

    assert response.status_code == 401
    assert "operator token" in response.json()["detail"]
    assert read.status_code == 401
    org.refresh_from_db()
    assert org.plan.code == "team"


def test_a_revoked_or_made_up_operator_token_is_refused(org):
    operator_token, token = operator_token_create(name="old laptop")
    operator_token_revoke(operator_token=operator_token)

    for bearer in (token, "ocop_" + "x" * 43, ""):
        response = ApiClient(Client(), bearer).put(PLAN, ENTERPRISE_40)
        assert response.status_code == 401
    org.refresh_from_db()
    assert org.plan.code == "team"


def test_the_owners_api_says_plans_are_set_by_the_operator(owner, org, actor):
    response = token_client(owner, actor=actor).put("/api/v1/orgs/acme/plan", ENTERPRISE_40)

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Plans and limits are set by the operator of this deployment. Ask for a change on the "
        "organization's Plan page, or with POST /api/v1/orgs/acme/plan-requests."
    )
    org.refresh_from_db()
    assert (org.plan.code, org.connection_limit_override) == ("team", None)


def test_create_operator_token_shows_the_token_once_and_stores_only_its_hash(db):
    out, err = StringIO(), StringIO()

    call_command("create_operator_token", "deploy pipeline", stdout=out, stderr=err)

    token = out.getvalue().strip()
    assert token.startswith("ocop_")
    stored = OperatorToken.objects.get(name="deploy pipeline")
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(OperatorToken.objects.values().get())
    assert "shown once" in err.getvalue()
    assert ApiClient(Client(), token).get("/api/v1/operator/orgs/nowhere").status_code == 404


def test_the_operators_change_answers_the_owners_waiting_request(operator, org, owner, actor):
    request = plan_change_request_create(
        organization=org,
        plan=Plan.objects.get(code="enterprise"),
        connection_limit=40,
        actor=actor(owner),
    )

    pending = operator.get(ACME).json()["pending_request"]
    operator.put(PLAN, ENTERPRISE_40)

    assert (pending["id"], pending["connection_limit"]) == (request.pk, 40)
    request.refresh_from_db()
    assert request.status == PlanChangeRequest.Status.APPLIED
    assert request.decided_by == "operator (billing system)"
