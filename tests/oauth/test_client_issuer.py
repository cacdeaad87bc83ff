"""An owner's OAuth client ID and secret go only to the authorization server they belong to,
and clients orgconnectors registers itself are per issuer. A real protected resource whose
metadata is switched from one real authorization server (AS-A) to another (AS-B)."""

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.encryption import encrypt
from orgconnectors.health.models import HealthCheck
from orgconnectors.health.pool import ProbeRunner
from orgconnectors.health.probe import ProbeConfig
from orgconnectors.health.services import health_sweep
from orgconnectors.oauth import services
from orgconnectors.oauth.errors import ClientIssuerUnconfirmed
from orgconnectors.oauth.models import ClientIssuerPin, OAuthClient, OAuthCredential
from orgconnectors.oauth.refresh import credential_refresh
from orgconnectors.oauth.refresh_outcomes import Outcome
from tests.factories import ConnectorFactory
from tests.oauth.authorization_server import PREREGISTERED_ID, PREREGISTERED_SECRET
from tests.oauth.conftest import browser_for, serve

pytestmark = pytest.mark.django_db

ACME = "/api/v1/orgs/acme"


class Resource:
    """An MCP server's front door: 401 to everyone, and RFC 9728 metadata naming whichever
    authorization server the test says."""

    def __init__(self) -> None:
        self.base_url = ""
        self.authorization_server = ""

    @property
    def url(self) -> str:
        return f"{self.base_url}/mcp"

    def app(self, base_url: str):
        self.base_url = base_url

        async def mcp(request):
            metadata = f"{self.base_url}/.well-known/oauth-protected-resource/mcp"
            challenge = f'Bearer resource_metadata="{metadata}"'
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})

        async def protected_resource(request):
            return JSONResponse(
                {"resource": self.url, "authorization_servers": [self.authorization_server]}
            )

        return Starlette(
            routes=[
                Route("/mcp", mcp, methods=["GET", "POST"]),
                Route("/.well-known/oauth-protected-resource/mcp", protected_resource),
            ]
        )


@pytest.fixture(scope="module")
def _resource():
    resource = Resource()
    _url, server, thread = serve(resource.app)
    yield resource
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def resource(_resource, auth_server, provider) -> Resource:
    _resource.authorization_server = auth_server.base_url
    return _resource


@pytest.fixture
def owners_client(org, resource):
    """A connector with the client ID and secret its owner registered at AS-A."""
    return ConnectorFactory(
        organization=org,
        name="Tracker",
        url=resource.url,
        auth=Connector.Auth.OAUTH,
        oauth_client_id=PREREGISTERED_ID,
        oauth_client_secret_encrypted=encrypt(PREREGISTERED_SECRET),
    )


def _secret_seen(provider) -> bool:
    return any(PREREGISTERED_SECRET in text for _path, text in provider.seen)


def test_the_owners_secret_never_reaches_a_new_authorization_server_until_an_owner_confirms_it(
    member,
    owner,
    owners_client,
    resource,
    provider,
    second_auth_server,
    second_provider,
    authorize,
    actor,
    auth_server,
):
    authorize(member, owners_client)  # at AS-A, which is pinned
    assert _secret_seen(provider)
    pinned = AuditEvent.objects.get(action="oauth.client_issuer_pinned")
    assert pinned.changes["issuer"]["after"].rstrip("/") == auth_server.base_url

    resource.authorization_server = second_auth_server.base_url
    enabled = services.oauth_connection_enable(
        membership=owner, connector=owners_client, session_key="s", actor=actor(owner)
    )

    assert enabled.authorize_url is None
    assert f"now sends members to the authorization server {second_auth_server.base_url}" in (
        enabled.reason
    )
    assert "until an owner confirms the new one on the connector's page" in enabled.reason
    assert not _secret_seen(second_provider)
    assert [path for path, _ in second_provider.seen if path in ("/token", "/register")] == []
    assert second_provider.authorize_params == []
    assert Connection.objects.get(membership=owner).state_reason == enabled.reason[:300]
    changed = AuditEvent.objects.get(action="oauth.client_issuer_changed")
    assert changed.changes["confirmed"] is False

    page = browser_for(owner).get(f"/orgs/acme/connectors/{owners_client.pk}/")
    assert "now names another authorization server" in page.content.decode()
    confirmed = browser_for(owner).post(
        f"/orgs/acme/connectors/{owners_client.pk}/oauth-issuer/",
        {"issuer": second_auth_server.base_url},
    )
    assert confirmed.status_code == 302
    assert AuditEvent.objects.filter(action="oauth.client_issuer_confirmed").count() == 1
    # The member's grant at AS-A went with the move: they authorize again.
    moved = Connection.objects.get(membership=member)
    assert moved.state == Connection.State.NEEDS_AUTHORIZATION
    assert "moved its OAuth client" in moved.state_reason

    authorized = authorize(owner, owners_client)

    assert authorized.connection.state == Connection.State.ENABLED
    assert _secret_seen(second_provider)
    client = OAuthCredential.objects.get(connection=authorized.connection).client
    assert client.issuer.rstrip("/") == second_auth_server.base_url


def test_an_owner_pins_the_server_ahead_and_the_secret_never_goes_to_another(
    owner, member, owners_client, resource, provider, auth_server, second_auth_server, actor
):
    api_key = api_token_create(membership=owner, name="script", actor=actor(owner))[1]
    api = DjangoClient(headers={"Authorization": f"Bearer {api_key}"})
    answer = api.put(
        f"{ACME}/connectors/{owners_client.pk}/oauth-issuer",
        {"issuer": second_auth_server.base_url},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["issuer"] == second_auth_server.base_url
    assert answer.json()["redirect_uri"].startswith("http://127.0.0.1:8000/oauth/callback/")

    enabled = services.oauth_connection_enable(
        membership=member, connector=owners_client, session_key="s", actor=actor(member)
    )
    with pytest.raises(ClientIssuerUnconfirmed):
        services.oauth_authorization_start(
            membership=member, connector=owners_client, session_key="s", actor=actor(member)
        )

    assert enabled.authorize_url is None
    assert not _secret_seen(provider)
    assert provider.authorize_params == []
    shown = api.get(f"{ACME}/connectors/{owners_client.pk}/oauth-issuer").json()
    assert shown["pending_issuer"].rstrip("/") == auth_server.base_url


def test_a_member_cannot_confirm_an_authorization_server(member, owners_client, resource):
    response = browser_for(member).post(
        f"/orgs/acme/connectors/{owners_client.pk}/oauth-issuer/",
        {"issuer": "https://as.example.com"},
    )

    assert response.status_code == 403
    assert not ClientIssuerPin.objects.exists()


def test_a_refresh_does_not_send_the_secret_to_a_server_the_owner_moved_away_from(
    member, owners_client, resource, provider, authorize, second_auth_server
):
    authorized = authorize(member, owners_client)
    ClientIssuerPin.objects.filter(connector=owners_client).update(
        issuer=second_auth_server.base_url
    )
    provider.token_log.forms.clear()
    credential = OAuthCredential.objects.get(connection=authorized.connection)

    outcome = credential_refresh(credential_id=credential.pk)

    assert outcome is Outcome.LAPSED
    assert provider.token_log.forms == []
    connection = Connection.objects.get(pk=authorized.connection.pk)
    assert "moved its OAuth client to another authorization server" in connection.state_reason


def test_a_resource_naming_another_server_registers_there_and_reuses_nothing(
    org, member, owner, resource, provider, second_auth_server, second_provider, authorize
):
    connector = ConnectorFactory(
        organization=org, name="Wiki", url=resource.url, auth=Connector.Auth.OAUTH
    )
    authorize(member, connector)
    at_a = OAuthClient.objects.get(connector=connector)
    provider.token_log.forms.clear()

    resource.authorization_server = second_auth_server.base_url
    authorize(owner, connector)

    at_b = OAuthClient.objects.exclude(pk=at_a.pk).get(connector=connector)
    assert (provider.registrations, second_provider.registrations) == (1, 1)
    assert at_b.client_id != at_a.client_id
    assert at_b.redirect_uri != at_a.redirect_uri
    assert provider.token_log.forms == []
    assert all(form["client_id"] == at_b.client_id for form in second_provider.token_log.forms)


@pytest.fixture(scope="module")
def runner():
    probe_runner = ProbeRunner(config=ProbeConfig(timeout=5.0, slow_ms=5000), concurrency=2)
    yield probe_runner
    probe_runner.close()


def test_the_health_check_tells_owners_a_new_authorization_server_waits_for_them(
    member,
    owners_client,
    resource,
    provider,
    second_auth_server,
    second_provider,
    authorize,
    runner,
):
    authorize(member, owners_client)
    resource.authorization_server = second_auth_server.base_url
    Connector.objects.filter(pk=owners_client.pk).update(next_check_at=timezone.now())

    health_sweep(runner=runner)

    check = HealthCheck.objects.get(connector=owners_client)
    assert any("until an owner confirms the new one" in note for note in check.notes)
    pin = ClientIssuerPin.objects.get(connector=owners_client)
    assert pin.pending_issuer == second_auth_server.base_url
    assert AuditEvent.objects.filter(action="oauth.client_issuer_changed").count() == 1
    assert second_provider.seen == []
