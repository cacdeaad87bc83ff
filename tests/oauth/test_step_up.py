"""Step-up: after a 403 insufficient_scope the member authorizes again with the union of the
granted and the demanded scopes, at most twice for the same scopes."""

import pytest
from django.test import Client

from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.oauth.services import MAX_STEP_UP_ATTEMPTS
from tests.oauth.conftest import browser_for, consent, query_of

pytestmark = pytest.mark.django_db


def _step_up_path(connector, org: str = "acme") -> str:
    return f"/api/v1/orgs/{org}/connectors/{connector.pk}/connection/step-up"


def _ask(api: Client, connector, scope: str, org: str = "acme"):
    return api.post(
        _step_up_path(connector, org), {"scope": scope}, content_type="application/json"
    )


@pytest.fixture
def api_as(actor):
    def make(membership) -> Client:
        _token, key = api_token_create(membership=membership, name="app", actor=actor(membership))
        return Client(headers={"Authorization": f"Bearer {key}"})

    return make


def test_a_step_up_asks_for_the_granted_and_the_demanded_scopes_together(
    member, oauth_connector, provider, authorize, api_as, django_capture_on_commit_callbacks
):
    authorize(member, oauth_connector)

    answer = _ask(api_as(member), oauth_connector, "tools:write")

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "enabled"
    url = answer.json()["authorize_url"]
    assert query_of(url)["scope"] == "tools:read tools:write"
    with django_capture_on_commit_callbacks(execute=True):
        assert browser_for(member).get(consent(url)).status_code == 302
    credential = Connection.objects.get().oauth_credential
    assert credential.scopes == ["tools:read", "tools:write"]
    assert provider.registrations == 1  # the registration already covered tools:write
    assert AuditEvent.objects.filter(action="oauth.step_up_requested").count() == 1


def test_after_two_attempts_for_the_same_scopes_the_connection_says_why_instead(
    member, oauth_connector, provider, authorize, api_as
):
    authorized = authorize(member, oauth_connector)
    api = api_as(member)
    for _ in range(MAX_STEP_UP_ATTEMPTS):
        asked = _ask(api, oauth_connector, "admin")
        assert asked.status_code == 200

    refused = _ask(api, oauth_connector, "admin")

    assert refused.status_code == 409
    (message,) = refused.json()["errors"]["scope"]
    assert "still refuses the scope “admin” after 2 authorizations" in message
    connection = Connection.objects.get()
    assert connection.state == Connection.State.ENABLED
    assert connection.state_reason == message
    page = authorized.browser.get("/orgs/acme/my-connectors/").content.decode()
    assert "stopped asking" in page
    assert AuditEvent.objects.filter(action="oauth.step_up_refused").count() == 1


def test_a_different_scope_is_asked_for_again(member, oauth_connector, provider, authorize, api_as):
    authorize(member, oauth_connector)
    api = api_as(member)
    for _ in range(MAX_STEP_UP_ATTEMPTS):
        _ask(api, oauth_connector, "admin")

    answer = _ask(api, oauth_connector, "tools:write")

    assert answer.status_code == 200


def test_a_step_up_without_a_scope_is_refused_next_to_the_field(
    member, oauth_connector, provider, authorize, api_as
):
    authorize(member, oauth_connector)

    answer = _ask(api_as(member), oauth_connector, "  ")

    assert answer.status_code == 400
    assert "scope" in answer.json()["errors"]


def test_an_auditor_cannot_step_up_and_another_organization_sees_nothing(
    auditor, other_member, oauth_connector, provider, api_as
):
    denied = _ask(api_as(auditor), oauth_connector, "x")
    from_elsewhere = _ask(api_as(other_member), oauth_connector, "x", org="globex")

    assert denied.status_code == 403
    assert from_elsewhere.status_code == 404
