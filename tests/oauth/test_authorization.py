"""A member authorizes an OAuth connector at a real authorization server, end to end."""

import anyio
import pytest
from django.test import Client as DjangoClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.models import Connection
from orgconnectors.egress import build_mcp_http_client
from orgconnectors.oauth.clients import callback_url, client_auth
from orgconnectors.oauth.errors import TokenEndpointError
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from orgconnectors.oauth.refresh_on_demand import credential_fresh_access_token
from orgconnectors.oauth.services import oauth_authorization_start
from orgconnectors.oauth.token_endpoint import token_request
from orgconnectors.oauth.vault import access_token_of
from tests.oauth.authorization_server import PREREGISTERED_ID
from tests.oauth.conftest import browser_for, consent, handoff_url, query_of

pytestmark = pytest.mark.django_db

ACME = "/api/v1/orgs/acme"


async def _list_tools(url: str, token: str) -> list[str]:
    http = build_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.list_tools()
    return [tool.name for tool in result.tools]


def test_a_member_connects_through_the_api_and_the_stored_token_lists_the_tools(
    member, oauth_connector, provider, auth_server, actor, django_capture_on_commit_callbacks
):
    _token, api_key = api_token_create(membership=member, name="script", actor=actor(member))
    api = DjangoClient(headers={"Authorization": f"Bearer {api_key}"})

    answer = api.put(f"{ACME}/connectors/{oauth_connector.pk}/connection")

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == "needs_authorization"
    assert body["authorize_url"].startswith(f"{auth_server.base_url}/authorize?")
    with django_capture_on_commit_callbacks(execute=True):
        landing = browser_for(member).get(consent(body["authorize_url"]))
    assert landing.status_code == 302
    assert landing["Location"] == "/orgs/acme/my-connectors/"
    connection = Connection.objects.get(membership=member, connector=oauth_connector)
    assert (connection.state, connection.state_reason) == (Connection.State.ENABLED, "")
    token = credential_fresh_access_token(connection=connection)
    assert anyio.run(_list_tools, auth_server.mcp_url, token) == ["search"]


def test_the_authorization_request_carries_pkce_s256_the_resource_and_the_scope(
    member, oauth_connector, provider, auth_server, authorize
):
    authorize(member, oauth_connector)

    (params,) = provider.authorize_params
    assert params.resource == auth_server.mcp_url
    assert params.scopes == ["tools:read"]
    # The redirect URI of this issuer's authorizations, not one shared by every server.
    assert str(params.redirect_uri) == callback_url(auth_server.base_url)
    assert str(params.redirect_uri) != callback_url()
    (form,) = [f for f in provider.token_log.forms if f["grant_type"] == "authorization_code"]
    assert form["resource"] == auth_server.mcp_url
    assert len(form["code_verifier"]) >= 43
    assert provider.token_log.statuses == [200]  # the server checked the verifier: it matched


def test_the_authorize_url_asks_for_s256_and_a_fresh_state_each_time(
    member, oauth_connector, provider, actor
):
    connection_enable(membership=member, connector=oauth_connector, actor=actor(member))
    urls = [
        oauth_authorization_start(
            membership=member, connector=oauth_connector, session_key="s", actor=actor(member)
        )
        for _ in range(2)
    ]

    first, second = (query_of(url) for url in urls)
    assert first["code_challenge_method"] == "S256"
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]
    assert "code_verifier" not in first


def test_the_server_refuses_a_code_redeemed_with_another_verifier(
    member, oauth_connector, provider, authorize, auth_server
):
    authorize(member, oauth_connector)
    client = OAuthClient.objects.get()
    code = query_of(
        consent(
            f"{auth_server.base_url}/authorize?response_type=code&client_id={client.client_id}"
            f"&redirect_uri={client.redirect_uri}&code_challenge=abc&code_challenge_method=S256"
            "&state=x"
        )
    )["code"]

    with pytest.raises(TokenEndpointError) as refused:
        token_request(
            token_endpoint=client.token_endpoint,
            client=client_auth(client),
            grant={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": client.redirect_uri,
                "code_verifier": "a-verifier-that-does-not-hash-to-abc-" + "x" * 20,
            },
        )

    assert refused.value.error == "invalid_grant"


def test_a_pre_registered_client_is_used_and_no_registration_happens(
    member, preregistered_connector, provider, authorize
):
    authorized = authorize(member, preregistered_connector)

    assert provider.registrations == 0
    client = OAuthClient.objects.get()
    assert (client.kind, client.client_id) == (OAuthClient.Kind.PREREGISTERED, PREREGISTERED_ID)
    assert provider.token_log.forms[0]["client_id"] == PREREGISTERED_ID
    assert authorized.connection.state == Connection.State.ENABLED


def test_without_a_client_id_orgconnectors_registers_once_for_every_member(
    org, member, owner, oauth_connector, provider, authorize
):
    authorize(member, oauth_connector)
    authorize(owner, oauth_connector)

    assert provider.registrations == 1
    client = OAuthClient.objects.get()
    assert client.kind == OAuthClient.Kind.DYNAMIC
    assert client.client_secret_encrypted and "secret" not in client.client_secret_encrypted
    assert OAuthCredential.objects.filter(client=client).count() == 2
    registered = AuditEvent.objects.get(action="oauth.client_registered")
    assert registered.changes["client_id"]["after"] == client.client_id


def test_authorizing_records_the_authorization_without_any_token(
    member, oauth_connector, provider, authorize
):
    authorized = authorize(member, oauth_connector)

    event = AuditEvent.objects.get(action="oauth.authorized")
    assert event.target_id == str(authorized.connection.pk)
    assert event.changes["state"] == {"before": "needs_authorization", "after": "enabled"}
    token = access_token_of(authorized.connection.oauth_credential)
    assert token not in str(event.changes)


def test_the_my_connectors_page_offers_authorize_while_authorization_is_needed(
    member, oauth_connector, provider, actor
):
    connection_enable(membership=member, connector=oauth_connector, actor=actor(member))
    browser = browser_for(member)

    page = browser.get("/orgs/acme/my-connectors/").content.decode()

    assert f"/orgs/acme/my-connectors/{oauth_connector.pk}/authorize/" in page
    assert "Tracker needs your authorization." in page


def test_the_authorize_button_sends_the_browser_to_the_authorization_server(
    member, oauth_connector, provider, actor, auth_server
):
    connection_enable(membership=member, connector=oauth_connector, actor=actor(member))
    browser = browser_for(member)

    response = browser.post(f"/orgs/acme/my-connectors/{oauth_connector.pk}/authorize/")

    authorize_url = handoff_url(response)
    assert authorize_url.startswith(f"{auth_server.base_url}/authorize?")
    landing = browser.get(consent(authorize_url))
    assert landing.status_code == 302
    assert Connection.objects.get(membership=member).state == Connection.State.ENABLED


def test_authorize_from_htmx_has_the_browser_itself_go_to_the_server(
    member, oauth_connector, provider, actor, auth_server
):
    connection_enable(membership=member, connector=oauth_connector, actor=actor(member))

    response = browser_for(member).post(
        f"/orgs/acme/my-connectors/{oauth_connector.pk}/authorize/", headers={"HX-Request": "true"}
    )

    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(f"{auth_server.base_url}/authorize?")
