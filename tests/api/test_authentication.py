from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from orgconnectors.api.tokens import api_token_create, api_token_revoke
from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.services import membership_remove
from tests.api.conftest import ApiClient, session_client
from tests.factories import MembershipFactory
from tests.responses import NOT_FOUND

ACME = "/api/v1/orgs/acme"
NEW_CONNECTOR = {"name": "Docs search", "url": "https://docs.example.com/mcp"}


def _token(membership, actor, **kwargs):
    return api_token_create(membership=membership, name="CI", actor=actor(membership), **kwargs)


# Personal API tokens


def test_a_valid_token_calls_as_its_user(owner, actor):
    api_token, token = _token(owner, actor)

    response = ApiClient(Client(), token).get(ACME)

    assert response.status_code == 200
    assert response.json()["role"] == "owner"
    api_token.refresh_from_db()
    assert api_token.last_used_at is not None


def test_a_change_made_with_a_token_is_recorded_as_its_user(owner, actor):
    _api_token, token = _token(owner, actor)

    response = ApiClient(Client(), token).post(
        ACME + "/connectors", NEW_CONNECTOR, headers={"User-Agent": "deploy-bot/2"}
    )

    assert response.status_code == 201
    event = AuditEvent.objects.get(action="connector.registered")
    assert event.actor == owner.user
    assert event.actor_label == "owner@acme.test"
    assert event.user_agent == "deploy-bot/2"


def test_a_revoked_token_is_refused(owner, actor):
    api_token, token = _token(owner, actor)
    api_token_revoke(api_token=api_token, actor=actor(owner))

    response = ApiClient(Client(), token).get(ACME)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "revoked or expired" in response.json()["detail"]


def test_an_expired_token_is_refused(owner, actor):
    with time_machine.travel("2025-03-01 09:00Z", tick=False):
        _api_token, token = _token(owner, actor, expires_at=timezone.now() + timedelta(days=1))
        assert ApiClient(Client(), token).get(ACME).status_code == 200

    with time_machine.travel("2025-03-02 09:00Z", tick=False):
        response = ApiClient(Client(), token).get(ACME)

    assert response.status_code == 401
    assert "revoked or expired" in response.json()["detail"]


def test_an_unknown_token_is_refused_even_with_a_signed_in_session(owner):
    client = Client()
    client.force_login(owner.user)

    response = client.get(ACME, headers={"Authorization": "Bearer oc_not-a-real-token"})

    # The caller meant the token; quietly using the session instead would hide their mistake.
    assert response.status_code == 401


def test_a_token_works_in_its_own_organization_only(owner, other_org, actor):
    # The same person owns both organizations; their Globex token still cannot reach Acme.
    globex = MembershipFactory(organization=other_org, user=owner.user, role=Membership.Role.OWNER)
    _api_token, token = _token(globex, actor)
    client = ApiClient(Client(), token)

    assert client.get("/api/v1/orgs/globex").status_code == 200
    assert client.get(ACME).json() == NOT_FOUND
    response = client.post(ACME + "/connectors", NEW_CONNECTOR)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert not Connector.objects.exists()


def test_a_token_stops_working_when_its_holder_leaves_the_organization(owner, member, actor):
    _api_token, token = _token(member, actor)
    membership_remove(membership=member, actor=actor(owner))

    response = ApiClient(Client(), token).get(ACME)

    # Revoked, not merely unmatched: see tests/api/test_token_revocation.py for the return.
    assert response.status_code == 401


def test_a_token_of_a_deactivated_account_is_refused(member, actor):
    _api_token, token = _token(member, actor)
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])

    assert ApiClient(Client(), token).get(ACME).status_code == 401


def test_a_token_needs_no_csrf_token_to_write(owner, actor):
    _api_token, token = _token(owner, actor)
    client = ApiClient(Client(enforce_csrf_checks=True), token)

    response = client.post(ACME + "/connectors", NEW_CONNECTOR)

    assert response.status_code == 201


def test_nobody_is_told_how_to_authenticate(db):
    response = ApiClient(Client()).get(ACME)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


# The dashboard's session


def test_the_session_reads_without_a_csrf_token(owner):
    response = session_client(owner, with_csrf=False).get(ACME)

    assert response.status_code == 200
    assert response.json()["role"] == "owner"


def test_the_session_cannot_write_without_the_csrf_token(owner):
    response = session_client(owner, with_csrf=False).post(ACME + "/connectors", NEW_CONNECTOR)

    assert response.status_code == 403
    assert "X-CSRFToken" in response.json()["detail"]
    assert not Connector.objects.exists()


def test_the_session_cannot_write_with_a_csrf_token_that_does_not_match(owner):
    client = session_client(owner)
    client.headers["X-CSRFToken"] = "x" * 32

    response = client.post(ACME + "/connectors", NEW_CONNECTOR)

    assert response.status_code == 403
    assert not Connector.objects.exists()


def test_the_session_writes_with_the_csrf_token(owner):
    response = session_client(owner).post(ACME + "/connectors", NEW_CONNECTOR)

    assert response.status_code == 201
    event = AuditEvent.objects.get(action="connector.registered")
    assert event.actor == owner.user


def test_the_session_of_someone_outside_the_organization_is_not_found(other_owner):
    response = session_client(other_owner).get(ACME + "/connectors")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
