"""Who orgconnectors is at a connector's authorization server: one client per connector and
issuer, shared by the organization's members.

In priority order (the MCP authorization spec's):
1. the client ID (and secret) an owner registered by hand and entered on the connector;
2. a Client ID Metadata Document: the client ID is an https URL of orgconnectors serving the
   client's metadata, when the server says `client_id_metadata_document_supported` and
   ORGCONNECTORS_BASE_URL is https (a server fetches the document, so it must be public);
3. Dynamic Client Registration (RFC 7591), stored with its secret encrypted, and done again
   when the token endpoint says `invalid_client`;
4. otherwise the owner is told exactly what to register and where.
"""

import contextlib
import hashlib
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connector
from orgconnectors.core.actor import Actor
from orgconnectors.egress import EgressError, EgressRefused, build_client
from orgconnectors.encryption import decrypt, encrypt
from orgconnectors.oauth.discovery import AuthorizationServer, Discovery
from orgconnectors.oauth.errors import ClientIdentityMissing, OAuthError
from orgconnectors.oauth.issuer_pins import preregistered_issuer_check
from orgconnectors.oauth.models import ClientIssuerPin, OAuthClient
from orgconnectors.oauth.token_endpoint import ClientAuth

CLIENT_NAME = "orgconnectors"
GRANT_TYPES = ["authorization_code", "refresh_token"]
Kind = OAuthClient.Kind


def issuer_key(issuer: str) -> str:
    """A short name of the issuer for its redirect URI; the root issuer with and without its
    trailing slash is one server (as `issuers_match` says)."""
    parts = urlsplit(issuer)
    if parts.path == "/" and not parts.query:
        issuer = issuer[:-1]
    return hashlib.sha256(issuer.encode()).hexdigest()[:16]


def callback_url(issuer: str | None = None) -> str:
    """The redirect URI of authorizations at `issuer`: one per authorization server, so a
    server can send a member back only to the address of its own authorizations (RFC 9700
    4.4's mix-up defence). Without an issuer, the shared address clients from before use."""
    if issuer is None:
        return settings.ORGCONNECTORS_BASE_URL + reverse("oauth_callback")
    return settings.ORGCONNECTORS_BASE_URL + reverse(
        "oauth_callback_issuer", kwargs={"issuer_key": issuer_key(issuer)}
    )


def callback_path(key: str) -> str:
    """The path the browser came back to, from the callback's issuer key ("" for the shared)."""
    if not key:
        return reverse("oauth_callback")
    return reverse("oauth_callback_issuer", kwargs={"issuer_key": key})


def client_redirect_uri(client: OAuthClient) -> str:
    """The redirect URI the client was registered with."""
    return client.redirect_uri or callback_url()


def pin_redirect_uri(pin: ClientIssuerPin) -> str:
    """The redirect URI an owner registers at the server their client is pinned to."""
    client = OAuthClient.objects.filter(
        connector_id=pin.connector_id, issuer=pin.issuer, kind=Kind.PREREGISTERED
    ).first()
    return client_redirect_uri(client) if client else callback_url(pin.issuer)


def metadata_document_url(client: OAuthClient) -> str:
    return settings.ORGCONNECTORS_BASE_URL + reverse(
        "oauth_client_metadata", kwargs={"pk": client.pk}
    )


def metadata_document(client: OAuthClient) -> dict:
    """The Client ID Metadata Document served at the client's own client_id URL."""
    return {
        "client_id": client.client_id,
        "client_name": CLIENT_NAME,
        "client_uri": settings.ORGCONNECTORS_BASE_URL,
        "redirect_uris": [client_redirect_uri(client)],
        "grant_types": GRANT_TYPES,
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }


def client_auth(client: OAuthClient) -> ClientAuth:
    return ClientAuth(
        client_id=client.client_id,
        client_secret=decrypt(client.client_secret_encrypted),
        method=client.token_endpoint_auth_method,
    )


def _secret_method(server: AuthorizationServer) -> str:
    offered = server.token_endpoint_auth_methods_supported
    if not offered:
        return "client_secret_basic"  # RFC 8414's default when the server lists none
    for method in ("client_secret_post", "client_secret_basic"):
        if method in offered:
            return method
    return "none" if "none" in offered else offered[0]


def _endpoints(server: AuthorizationServer) -> dict:
    return {
        "authorization_endpoint": server.authorization_endpoint,
        "token_endpoint": server.token_endpoint,
        "revocation_endpoint": server.revocation_endpoint,
    }


def _save(connector: Connector, server: AuthorizationServer, **fields) -> OAuthClient:
    defaults = {**_endpoints(server), **fields}
    client, _created = OAuthClient.objects.update_or_create(
        connector=connector,
        issuer=server.issuer,
        defaults=defaults,
        create_defaults={"redirect_uri": callback_url(server.issuer), **defaults},
    )
    return client


def _no_client_message(connector: Connector, server: AuthorizationServer) -> str:
    reasons = ["it does not offer dynamic client registration"]
    if server.client_id_metadata_document_supported:
        reasons.append(
            "Client ID Metadata Documents need ORGCONNECTORS_BASE_URL to be a public https URL"
        )
    return (
        f"orgconnectors cannot identify itself to the authorization server {server.issuer}: "
        f"{'; '.join(reasons)}. An owner must register orgconnectors there as an OAuth client "
        f"with the redirect URI {callback_url(server.issuer)}, then enter its client ID (and "
        f"secret, if it has one) in the settings of {connector.name}."
    )


def _register(server: AuthorizationServer, scope: str) -> dict:
    """Register at the server (RFC 7591); the answer, parsed. Network only, no database."""
    method = _secret_method(server)
    body = {
        "client_name": CLIENT_NAME,
        "client_uri": settings.ORGCONNECTORS_BASE_URL,
        "redirect_uris": [callback_url(server.issuer)],
        "grant_types": GRANT_TYPES,
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
        "application_type": "web",
    }
    if scope:
        body["scope"] = scope
    failed = f"Dynamic client registration at {server.registration_endpoint} failed"
    try:
        with build_client(library="httpx") as http:
            response = http.post(server.registration_endpoint, json=body)
    except EgressRefused as refused:
        raise OAuthError(f"{failed}: {refused}.") from None
    except (httpx.HTTPError, EgressError) as error:
        raise OAuthError(f"{failed} ({_why(error)}); try again later.") from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code not in (200, 201) or not isinstance(answer, dict):
        error = answer.get("error_description") or answer.get("error") if answer else ""
        raise OAuthError(
            f"{failed}: the server answered {response.status_code}"
            f"{f' ({str(error)[:200]})' if error else ''}. Ask an owner to register "
            f"orgconnectors there by hand, with the redirect URI {callback_url(server.issuer)}."
        )
    if not isinstance(answer.get("client_id"), str) or not answer["client_id"]:
        raise OAuthError(f"{failed}: the answer carries no client_id.")
    return answer


def scope_union(*scopes: str) -> str:
    merged: list[str] = []
    for scope in scopes:
        for item in (scope or "").split():
            if item not in merged:
                merged.append(item)
    return " ".join(merged)


# How often a member whose registration waits on another member's checks whether it is done.
REGISTRATION_POLL_SECONDS = 0.05


@contextlib.contextmanager
def _registration_single_flight(connector: Connector, issuer: str) -> Iterator[None]:
    """One registration at a time per connector and issuer, across processes.

    A PostgreSQL advisory lock of this session, not a row lock: the registration is a request
    to the server, and no transaction stays open while the server is asked. A member who
    waits gives up after one egress deadline and a little more (the holder's request ends by
    then), with a sentence to try again.
    """
    if connection.vendor != "postgresql":  # the in-memory SQLite of quick tests: one process
        yield
        return
    digest = hashlib.sha256(f"oauth-client:{connector.pk}:{issuer}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    give_up_at = time.monotonic() + settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS + 5
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() >= give_up_at:
                raise OAuthError(
                    f"Another member is registering orgconnectors at {issuer} for "
                    f"{connector.name} right now; try again in a minute."
                )
            time.sleep(REGISTRATION_POLL_SECONDS)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def oauth_client_ensure(
    *, connector: Connector, discovery: Discovery, scope: str, actor: Actor
) -> OAuthClient:
    """The client to authorize with at the discovered server, registering one if need be.

    Runs outside any transaction: a dynamic registration is a request to the server.
    """
    server = discovery.server
    if connector.oauth_client_id:
        # The owner's secret goes only to the server it was registered with.
        preregistered_issuer_check(connector=connector, issuer=server.issuer, actor=actor)
        method = _secret_method(server) if connector.oauth_client_secret_encrypted else "none"
        known = OAuthClient.objects.filter(connector=connector, issuer=server.issuer).first()
        # New credentials are registered with this issuer's redirect URI (the page shows it).
        fresh = known is None or known.client_id != connector.oauth_client_id
        return _save(
            connector,
            server,
            **({"redirect_uri": callback_url(server.issuer)} if fresh else {}),
            kind=Kind.PREREGISTERED,
            client_id=connector.oauth_client_id,
            client_secret_encrypted=connector.oauth_client_secret_encrypted,
            token_endpoint_auth_method=method,
            registered_scope="",
        )
    if server.client_id_metadata_document_supported and settings.ORGCONNECTORS_BASE_URL.startswith(
        "https://"
    ):
        with transaction.atomic():
            client = _save(
                connector,
                server,
                kind=Kind.METADATA_DOCUMENT,
                redirect_uri=callback_url(server.issuer),
                client_secret_encrypted="",
                token_endpoint_auth_method="none",
                registered_scope="",
            )
            url = metadata_document_url(client)
            if client.client_id != url:
                client.client_id = url
                client.save(update_fields=["client_id", "updated_at"])
        return client
    if not server.registration_endpoint:
        raise ClientIdentityMissing(_no_client_message(connector, server))
    # Two members authorizing at once for the first time would register two clients, the
    # second overwriting the first (and orphaning its grants): the one who comes second waits
    # and takes the client the first registered.
    with _registration_single_flight(connector, server.issuer):
        return _dynamic_client(connector=connector, discovery=discovery, scope=scope, actor=actor)


def _dynamic_client(
    *, connector: Connector, discovery: Discovery, scope: str, actor: Actor
) -> OAuthClient:
    server = discovery.server
    existing = OAuthClient.objects.filter(
        connector=connector, issuer=server.issuer, kind=Kind.DYNAMIC
    ).first()
    if existing is not None:
        # Registered once for every member; registering again would orphan their grants.
        if _endpoints(server) != _endpoints_of(existing):
            return _save(connector, server)
        return existing
    # Every scope the server lists, so a later step-up needs no second registration.
    wanted = scope_union(
        scope, " ".join(discovery.resource_scopes), " ".join(server.scopes_supported)
    )
    answer = _register(server, wanted)
    with transaction.atomic():
        client = _save(
            connector,
            server,
            kind=Kind.DYNAMIC,
            redirect_uri=callback_url(server.issuer),
            client_id=answer["client_id"],
            client_secret_encrypted=encrypt(str(answer.get("client_secret") or "")),
            token_endpoint_auth_method=str(
                answer.get("token_endpoint_auth_method")
                or ("client_secret_basic" if answer.get("client_secret") else "none")
            ),
            registered_scope=str(answer.get("scope") or wanted),
        )
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="oauth.client_registered",
            target=connector,
            changes={
                "issuer": {"before": None, "after": server.issuer},
                "client_id": {"before": None, "after": client.client_id},
            },
        )
    return client


def _endpoints_of(client: OAuthClient) -> dict:
    return {
        "authorization_endpoint": client.authorization_endpoint,
        "token_endpoint": client.token_endpoint,
        "revocation_endpoint": client.revocation_endpoint,
    }


def _why(error: Exception) -> str:
    # The egress guard's own words (too large, too slow) say more than an exception's name.
    return str(error) if isinstance(error, EgressError) else type(error).__name__
