"""OAuth mix-up (RFC 9207, RFC 9700 4.4): an authorization answer is redeemed only at the
authorization server the member was sent to. Two real authorization servers on loopback."""

from urllib.parse import urlencode

import pytest
from pydantic import AnyUrl

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.oauth import services
from orgconnectors.oauth.clients import callback_url
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from tests.factories import ConnectorFactory
from tests.oauth.conftest import browser_for, consent, query_of

pytestmark = pytest.mark.django_db


def _page(response) -> str:
    return " ".join(response.content.decode().split())


def _code_grants(provider) -> list[dict]:
    return [form for form in provider.token_log.forms if form.get("grant_type")]


def _begin(member, org, url, actor):
    """A member's authorization of a connector at `url`'s server, sent, not yet answered:
    (the member's browser, the authorize URL)."""
    connector = ConnectorFactory(
        organization=org, name="Tracker", url=url, auth=Connector.Auth.OAUTH
    )
    browser = browser_for(member)
    browser.get("/")
    enabled = services.oauth_connection_enable(
        membership=member,
        connector=connector,
        session_key=browser.session.session_key,
        actor=actor(member),
    )
    assert enabled.authorize_url, enabled.reason
    return browser, enabled.authorize_url


@pytest.fixture
def started(member, org, auth_server, provider, actor):
    """A member's authorization of a connector at AS-A."""
    return _begin(member, org, auth_server.mcp_url, actor)


def test_a_code_from_another_server_is_refused_and_sent_to_no_token_endpoint(
    started,
    owner,
    org,
    provider,
    second_auth_server,
    second_provider,
    actor,
    django_capture_on_commit_callbacks,
):
    browser, authorize_url = started
    # orgconnectors also has a client at AS-B (an owner's connector there).
    other = ConnectorFactory(
        organization=org, name="Wiki", url=second_auth_server.mcp_url, auth=Connector.Auth.OAUTH
    )
    services.oauth_connection_enable(
        membership=owner, connector=other, session_key="s", actor=actor(owner)
    )
    at_b = OAuthClient.objects.get(connector=other)
    registered_redirect = second_provider.clients[at_b.client_id].redirect_uris[0]
    # AS-A, instead of answering, sends the member to AS-B with orgconnectors' client there and
    # the state of the authorization started at AS-A: AS-B mints a code for it.
    lured = f"{second_auth_server.base_url}/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": at_b.client_id,
            "redirect_uri": str(registered_redirect),
            "code_challenge": "attacker-chosen-challenge-" + "x" * 20,
            "code_challenge_method": "S256",
            "state": query_of(authorize_url)["state"],
            "resource": second_auth_server.mcp_url,
        }
    )
    back = consent(lured)
    assert "code=" in back

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.get(back)

    assert response.status_code == 400
    assert "orgconnectors refused it and sent its code nowhere" in _page(response)
    assert _code_grants(provider) == []
    assert _code_grants(second_provider) == []
    assert not OAuthCredential.objects.exists()
    refused = AuditEvent.objects.get(action="oauth.authorization_refused")
    assert refused.changes["reason"]["after"] == "other_callback"


def test_a_server_that_promises_iss_and_answers_without_it_is_refused(
    member, org, auth_server, provider, actor
):
    provider.iss_supported = True
    provider.answer_iss = None
    browser, authorize_url = _begin(member, org, auth_server.mcp_url, actor)

    response = browser.get(consent(authorize_url))

    assert response.status_code == 400
    assert "names itself in every answer (RFC 9207), but this answer does not" in _page(response)
    assert _code_grants(provider) == []
    assert Connection.objects.get().state == Connection.State.NEEDS_AUTHORIZATION
    refused = AuditEvent.objects.get(action="oauth.authorization_refused")
    assert refused.changes["reason"]["after"] == "iss_missing"


def test_an_answer_naming_another_issuer_is_refused_and_recorded(
    member, org, auth_server, provider, second_auth_server, actor
):
    provider.iss_supported = True
    provider.answer_iss = second_auth_server.base_url
    browser, authorize_url = _begin(member, org, auth_server.mcp_url, actor)

    response = browser.get(consent(authorize_url))

    assert response.status_code == 400
    assert f"The answer came from {second_auth_server.base_url}, not from" in _page(response)
    assert _code_grants(provider) == []
    refused = AuditEvent.objects.get(action="oauth.authorization_refused")
    assert refused.changes["reason"]["after"] == "iss_mismatch"
    assert refused.changes["iss"]["after"] == second_auth_server.base_url


def test_an_answer_naming_its_issuer_at_that_issuers_address_completes(
    member, org, auth_server, provider, actor, django_capture_on_commit_callbacks
):
    provider.iss_supported = True
    provider.answer_iss = f"{auth_server.base_url}/"  # as its metadata spells the issuer
    browser, authorize_url = _begin(member, org, auth_server.mcp_url, actor)
    back = consent(authorize_url)

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.get(back)

    assert response.status_code == 302, _page(response)
    assert Connection.objects.get().state == Connection.State.ENABLED
    # It came back to the address of this issuer's authorizations, not a shared one.
    assert back.startswith("/oauth/callback/")
    assert not AuditEvent.objects.filter(action="oauth.authorization_refused").exists()


def test_a_client_registered_before_per_issuer_addresses_keeps_its_shared_address(
    member, owner, org, auth_server, provider, authorize
):
    connector = ConnectorFactory(
        organization=org, name="Tracker", url=auth_server.mcp_url, auth=Connector.Auth.OAUTH
    )
    authorize(member, connector)
    # As a registration from before the upgrade: the server knows only the shared address.
    client = OAuthClient.objects.get()
    OAuthClient.objects.filter(pk=client.pk).update(redirect_uri="")
    provider.clients[client.client_id].redirect_uris = [AnyUrl(callback_url())]

    authorized = authorize(owner, connector)

    assert authorized.connection.state == Connection.State.ENABLED
    assert str(provider.authorize_params[-1].redirect_uri) == callback_url()
    assert provider.registrations == 1
