"""A real authorization server and a protected MCP server, on 127.0.0.1, for the OAuth tests.

The authorization server is the MCP SDK's (`create_auth_routes`) with an in-memory provider
written here: it consents at once, issues short-lived access tokens, rotates refresh tokens,
counts refreshes, verifies PKCE (the SDK's token handler does), remembers the `resource` of each
request, and supports revocation and dynamic registration. The MCP server next to it is the
SDK's `MCPServer` with bearer auth bound to that resource.
"""

import base64
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

import anyio
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    ProviderTokenVerifier,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.routes import build_metadata, create_auth_routes
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.loopback import read_body, replaying

SCOPES = ["tools:read", "tools:write"]
REQUIRED_SCOPES = ["tools:read"]
PREREGISTERED_ID = "orgconnectors-by-hand"
PREREGISTERED_SECRET = "pre-registered-secret-value"
ACCESS_TTL = 600  # seconds; refreshed at 75%, that is after 450 s


@dataclass
class TokenRequestLog:
    """The form fields of each POST to /token, and what each answered."""

    forms: list[dict[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


class Provider:
    """An OAuthAuthorizationServerProvider kept in memory; every change under one lock."""

    def __init__(self, callback_url: Callable[[], str]) -> None:
        self.lock = threading.Lock()
        self.callback_url = callback_url
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.clients: dict[str, OAuthClientInformationFull] = {}
            self.codes: dict[str, AuthorizationCode] = {}
            self.access: dict[str, AccessToken] = {}
            self.refresh: dict[str, RefreshToken] = {}
            self.authorize_params: list[AuthorizationParams] = []
            self.refresh_calls = 0
            self.revoked: list[str] = []
            self.registrations = 0
            self.access_ttl = ACCESS_TTL
            self.cimd_supported = False
            self.cimd_fetch: Callable[[str], dict] | None = None
            self.token_endpoint_down = False
            self.during_refresh: Callable[[], None] | None = None
            self.token_log = TokenRequestLog()
            # RFC 9207: what the metadata promises, and the `iss` each answer carries (None:
            # none), so a test can play a server that keeps or breaks its promise.
            self.iss_supported = False
            self.answer_iss: str | None = None
            # Each request as (path, its query or body and credentials in clear), for "this
            # server never saw that".
            self.seen: list[tuple[str, str]] = []
        self.clients[PREREGISTERED_ID] = OAuthClientInformationFull(
            client_id=PREREGISTERED_ID,
            client_secret=PREREGISTERED_SECRET,
            redirect_uris=[self.callback_url()],
            token_endpoint_auth_method="client_secret_post",
            grant_types=["authorization_code", "refresh_token"],
            scope=" ".join(SCOPES),
        )

    # clients

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if client_id in self.clients:
            return self.clients[client_id]
        if self.cimd_supported and self.cimd_fetch and client_id.startswith("https://"):
            document = await anyio.to_thread.run_sync(self.cimd_fetch, client_id)
            if document.get("client_id") != client_id:
                return None
            return OAuthClientInformationFull(
                client_id=client_id,
                redirect_uris=document["redirect_uris"],
                token_endpoint_auth_method="none",
                grant_types=document["grant_types"],
                scope=" ".join(SCOPES),
            )
        return None

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        with self.lock:
            self.clients[client_info.client_id] = client_info
            self.registrations += 1

    def forget_client(self, client_id: str) -> None:
        with self.lock:
            self.clients.pop(client_id, None)

    # authorization: consent is given at once

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams):
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.authorize_params.append(params)
            self.codes[code] = AuthorizationCode(
                code=code,
                scopes=params.scopes or [],
                expires_at=time.time() + 300,
                client_id=client.client_id,
                code_challenge=params.code_challenge,
                redirect_uri=params.redirect_uri,
                redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
                resource=params.resource,
                subject="member",
            )
        return construct_redirect_uri(
            str(params.redirect_uri), code=code, state=params.state, iss=self.answer_iss
        )

    async def load_authorization_code(self, client, authorization_code: str):
        return self.codes.get(authorization_code)

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access[access] = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scopes,
            expires_at=int(time.time()) + self.access_ttl,
            resource=resource,
        )
        self.refresh[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource
        )
        return OAuthToken(
            access_token=access,
            expires_in=self.access_ttl,
            refresh_token=refresh,
            scope=" ".join(scopes),
        )

    async def exchange_authorization_code(self, client, authorization_code: AuthorizationCode):
        with self.lock:
            self.codes.pop(authorization_code.code, None)
            return self._issue(
                client.client_id, authorization_code.scopes, authorization_code.resource
            )

    # refresh: rotates the refresh token; the old one stops working

    async def load_refresh_token(self, client, refresh_token: str):
        return self.refresh.get(refresh_token)

    async def exchange_refresh_token(self, client, refresh_token: RefreshToken, scopes):
        if self.during_refresh is not None:
            await anyio.to_thread.run_sync(self.during_refresh)
        with self.lock:
            self.refresh_calls += 1
            self.refresh.pop(refresh_token.token, None)
            return self._issue(client.client_id, scopes, refresh_token.resource)

    def drop_grants(self) -> None:
        """Forget every refresh token, as when a member revokes access at the server."""
        with self.lock:
            self.refresh.clear()

    # access tokens and revocation

    async def load_access_token(self, token: str) -> AccessToken | None:
        access = self.access.get(token)
        if access is None or (access.expires_at and access.expires_at < time.time()):
            return None
        return access

    async def revoke_token(self, token) -> None:
        with self.lock:
            self.revoked.append(token.token)
            self.access.pop(token.token, None)
            self.refresh.pop(token.token, None)


def _seen_text(scope, body: bytes) -> str:
    """The request's query, body and Authorization header, with a Basic pair decoded."""
    headers = dict(scope.get("headers") or [])
    authorization = headers.get(b"authorization", b"").decode()
    if authorization.startswith("Basic "):
        authorization += " " + base64.b64decode(authorization[6:]).decode(errors="replace")
    query = scope.get("query_string", b"").decode()
    return " ".join(
        (unquote(query), unquote(body.decode(errors="replace")), unquote(authorization))
    )


def _logging_token_requests(app, provider: Provider):
    """Writes down each request (with its form or query) and each /token form, and answers 503
    while the provider says it is down."""

    async def middleware(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if scope["path"] != "/token":
            provider.seen.append((scope["path"], _seen_text(scope, b"")))
            return await app(scope, receive, send)
        body = await read_body(receive)
        provider.seen.append((scope["path"], _seen_text(scope, body)))
        provider.token_log.forms.append(dict(parse_qsl(body.decode())))
        if provider.token_endpoint_down:
            provider.token_log.statuses.append(503)
            response = JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
            return await response(scope, receive, send)
        replay = replaying(body, receive)

        async def noting_send(message):
            if message["type"] == "http.response.start":
                provider.token_log.statuses.append(message["status"])
            await send(message)

        return await app(scope, replay, noting_send)

    return middleware


def protected_app(base_url: str, provider: Provider):
    """The authorization server's routes and the protected MCP server at /mcp, in one app."""
    issuer = AnyHttpUrl(base_url)
    registration = ClientRegistrationOptions(
        enabled=True, valid_scopes=SCOPES, default_scopes=REQUIRED_SCOPES
    )
    revocation = RevocationOptions(enabled=True)
    server = MCPServer(
        "tracker",
        token_verifier=ProviderTokenVerifier(provider),
        auth=AuthSettings(
            issuer_url=base_url,
            resource_server_url=f"{base_url}/mcp",
            required_scopes=REQUIRED_SCOPES,
            validate_token_resource=True,
        ),
    )

    @server.tool()
    def search(query: str) -> str:
        """Search the issue tracker."""
        return query

    app = server.streamable_http_app(
        json_response=True,
        stateless_http=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    metadata = build_metadata(issuer, None, registration, revocation)

    async def metadata_route(request):
        # The SDK's metadata, plus the Client ID Metadata Document flag when a test turns it on.
        current = metadata.model_copy(
            update={
                "client_id_metadata_document_supported": provider.cimd_supported or None,
                "authorization_response_iss_parameter_supported": provider.iss_supported or None,
            }
        )
        return await MetadataHandler(current).handle(request)

    app.router.routes[0:0] = [
        Route("/.well-known/oauth-authorization-server", metadata_route, methods=["GET"]),
        *create_auth_routes(
            provider,
            issuer_url=issuer,
            client_registration_options=registration,
            revocation_options=revocation,
        ),
    ]
    return _logging_token_requests(app, provider)
