"""The demo's OAuth-protected MCP server and its authorization server, in one app on one port.

The authorization server is the MCP SDK's (`create_auth_routes`: metadata, dynamic client
registration, /authorize with PKCE, /token, /revoke) with a provider kept in memory. /authorize
shows a small consent page where the person clicks "Allow". Access tokens live 2 minutes and
every refresh rotates the refresh token, so the dashboard's refresh sweep (every 30 s) can be
watched at work. Everything is forgotten when the process stops: members then authorize again.
"""

import html
import secrets
import time

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    ProviderTokenVerifier,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.routes import create_auth_routes
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

SCOPES = ["tasks:read", "tasks:write"]
DEFAULT_SCOPES = ["tasks:read"]
ACCESS_TTL = 120  # seconds: short, so the refresh is seen within a couple of minutes
CODE_TTL = 300
CONSENT_TTL = 600

TASKS = ["Renew the TLS certificate", "Review the Q3 budget", "Plan the team offsite"]

CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Allow access? (demo)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
button{{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem}}</style></head>
<body><h1>Allow access to your demo tasks?</h1>
<p><strong>{client}</strong> asks to use the demo task server on your behalf with these
permissions: <code>{scopes}</code>.</p>
<p>This is the demo's own authorization server: nobody signs in, and its tokens last 2 minutes.</p>
<form method="post" action="/consent">
<input type="hidden" name="request" value="{request}">
<button name="decision" value="allow">Allow</button>
<button name="decision" value="deny">Deny</button>
</form></body></html>
"""


class DemoProvider:
    """The SDK's OAuthAuthorizationServerProvider, in memory (one event loop: no locks)."""

    def __init__(self) -> None:
        self.clients: dict[str, OAuthClientInformationFull] = {}
        # Requests waiting for the person's decision, under an unguessable id.
        self.pending: dict[str, tuple[float, OAuthClientInformationFull, AuthorizationParams]] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams):
        request_id = secrets.token_urlsafe(24)
        self.pending[request_id] = (time.time() + CONSENT_TTL, client, params)
        return f"/consent?request={request_id}"

    def decide(self, request_id: str, allow: bool) -> str | None:
        """Where to send the browser after the person's decision; None for an unknown request."""
        expires, client, params = self.pending.pop(request_id, (0.0, None, None))
        if client is None or expires < time.time():
            return None
        if not allow:
            return construct_redirect_uri(
                str(params.redirect_uri),
                error="access_denied",
                error_description="The person did not allow access.",
                state=params.state,
            )
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or DEFAULT_SCOPES,
            expires_at=time.time() + CODE_TTL,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client, authorization_code: str):
        code = self.codes.get(authorization_code)
        if code is None or code.client_id != client.client_id or code.expires_at < time.time():
            return None
        return code

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.access[access] = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scopes,
            expires_at=int(time.time()) + ACCESS_TTL,
            resource=resource,
        )
        self.refresh[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource
        )
        return OAuthToken(
            access_token=access,
            expires_in=ACCESS_TTL,
            refresh_token=refresh,
            scope=" ".join(scopes),
        )

    async def exchange_authorization_code(self, client, authorization_code: AuthorizationCode):
        self.codes.pop(authorization_code.code, None)
        return self._issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(self, client, refresh_token: str):
        token = self.refresh.get(refresh_token)
        return token if token is not None and token.client_id == client.client_id else None

    async def exchange_refresh_token(self, client, refresh_token: RefreshToken, scopes):
        # Rotation: the refresh token just used stops working.
        self.refresh.pop(refresh_token.token, None)
        print(f"demo OAuth server: refreshed a token for client {client.client_id[:8]}…")
        return self._issue(client.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        access = self.access.get(token)
        if access is None or (access.expires_at and access.expires_at < time.time()):
            return None
        return access

    async def revoke_token(self, token) -> None:
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


def _consent_routes(provider: DemoProvider) -> list[Route]:
    async def consent(request: Request) -> Response:
        if request.method == "GET":
            request_id = request.query_params.get("request", "")
            pending = provider.pending.get(request_id)
            if pending is None:
                return HTMLResponse(
                    "<p>This authorization request is unknown or finished; start again from "
                    "My connectors.</p>",
                    status_code=400,
                )
            _expires, client, params = pending
            page = CONSENT_PAGE.format(
                client=html.escape(client.client_name or client.client_id),
                scopes=html.escape(" ".join(params.scopes or DEFAULT_SCOPES)),
                request=html.escape(request_id),
            )
            return HTMLResponse(page)
        form = await request.form()
        target = provider.decide(str(form.get("request", "")), form.get("decision") == "allow")
        if target is None:
            return HTMLResponse(
                "<p>This authorization request is unknown or expired; start again from "
                "My connectors.</p>",
                status_code=400,
            )
        return RedirectResponse(target, status_code=302)

    return [Route("/consent", consent, methods=["GET", "POST"])]


def oauth_app(base_url: str, provider: DemoProvider | None = None):
    """The authorization server's routes and the protected MCP server at /mcp."""
    provider = provider or DemoProvider()
    registration = ClientRegistrationOptions(
        enabled=True, valid_scopes=SCOPES, default_scopes=DEFAULT_SCOPES
    )
    revocation = RevocationOptions(enabled=True)
    server = MCPServer(
        "demo-tasks",
        version="1.0.0",
        instructions="The demo team's task list, behind OAuth.",
        token_verifier=ProviderTokenVerifier(provider),
        auth=AuthSettings(
            issuer_url=base_url,
            resource_server_url=f"{base_url}/mcp",
            required_scopes=DEFAULT_SCOPES,
            validate_token_resource=True,
        ),
    )

    @server.tool(title="List tasks")
    def list_tasks() -> list[str]:
        """The open tasks."""
        return TASKS

    @server.tool(title="Add a task")
    def add_task(title: str) -> str:
        """Add a task to the list."""
        TASKS.append(title)
        return f"Added: {title}"

    app = server.streamable_http_app(
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    app.router.routes[0:0] = [
        *create_auth_routes(
            provider,
            issuer_url=AnyHttpUrl(base_url),
            client_registration_options=registration,
            revocation_options=revocation,
        ),
        *_consent_routes(provider),
    ]
    return app
