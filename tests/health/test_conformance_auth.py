"""`manage.py mcp_conformance_client URL` on a server behind OAuth: the member's whole
authorization, run headlessly (conformance_auth.py), against real peers on 127.0.0.1.

Each peer is one app: the MCP SDK's authorization-server routes with the OAuth tests' in-memory
provider (which consents at once, as the conformance suite's servers do) and an SDK MCP server
that requires its tokens, over Streamable HTTP or legacy HTTP+SSE. In front of both, a guard can
answer a tools/call 403 insufficient_scope, as the suite's auth/scope-step-up server does.
"""

import json
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.provider import AuthorizeError, ProviderTokenVerifier
from mcp.server.auth.routes import build_metadata, create_auth_routes
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.responses import JSONResponse
from starlette.routing import Route

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.health.conformance_auth import first_tool_needs_authorization
from orgconnectors.oauth.clients import callback_url
from tests.health.conftest import RequestLog, logged
from tests.loopback import read_body, replaying, serve_asgi
from tests.oauth.authorization_server import (
    PREREGISTERED_ID,
    PREREGISTERED_SECRET,
    REQUIRED_SCOPES,
    SCOPES,
    Provider,
)

pytestmark = pytest.mark.django_db

OPEN_HOSTS = TransportSecuritySettings(enable_dns_rebinding_protection=False)
WRITE_SCOPE = "tools:write"


class HeadlessProvider(Provider):
    """The OAuth tests' provider, which consents at once; it can also be told to decline, as a
    member who chooses Deny would, to want more scope for tools/call (see `step_up_guard`), and
    to make the server's first tool fail."""

    def reset(self) -> None:
        super().reset()
        self.decline = False
        self.tool_call_scopes: list[str] = []
        self.tool_fails = False

    async def authorize(self, client, params):
        if self.decline:
            with self.lock:
                self.authorize_params.append(params)
            raise AuthorizeError(error="access_denied", error_description="The member declined.")
        return await super().authorize(client, params)


def step_up_guard(app, provider: HeadlessProvider, resource_url: str):
    """Answers a tools/call whose token lacks `provider.tool_call_scopes` with 403
    insufficient_scope naming them all, as the suite's auth/scope-step-up server does; the SDK
    server requires one set of scopes for every request, so it cannot say this itself."""

    async def guard(scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not provider.tool_call_scopes:
            return await app(scope, receive, send)
        body = await read_body(receive)
        try:
            method = json.loads(body).get("method")
        except (ValueError, AttributeError):
            method = None
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode()
        access = provider.access.get(authorization.removeprefix("Bearer "))
        wanted = provider.tool_call_scopes
        if method == "tools/call" and access and not set(wanted) <= set(access.scopes):
            challenge = (
                f'Bearer error="insufficient_scope", scope="{" ".join(wanted)}", '
                f'resource_metadata="{resource_url}"'
            )
            refusal = JSONResponse(
                {"error": "insufficient_scope"},
                status_code=403,
                headers={"WWW-Authenticate": challenge},
            )
            return await refusal(scope, receive, send)
        replay = replaying(body, receive)

        return await app(scope, replay, send)

    return guard


def protected_server(base_url: str, provider: HeadlessProvider, *, sse: bool):
    """The authorization server's routes and, next to them, an SDK MCP server that requires
    its tokens: at /mcp (Streamable HTTP) or /sse (legacy HTTP+SSE)."""
    path = "/sse" if sse else "/mcp"
    url = base_url + path
    issuer = AnyHttpUrl(base_url)
    registration = ClientRegistrationOptions(
        enabled=True, valid_scopes=SCOPES, default_scopes=REQUIRED_SCOPES
    )
    revocation = RevocationOptions(enabled=True)
    server = MCPServer(
        "tracker",
        version="3.1",
        token_verifier=ProviderTokenVerifier(provider),
        auth=AuthSettings(
            issuer_url=base_url,
            resource_server_url=url,
            required_scopes=REQUIRED_SCOPES,
            validate_token_resource=True,
        ),
    )

    @server.tool(title="Open issues")
    def open_issues() -> str:
        """The open issues, newest first."""
        if provider.tool_fails:
            raise ValueError("the tracker is down for maintenance")
        return "#42 The login page is slow"

    @server.tool()
    def close_issue(issue_id: int) -> str:
        """Close an issue."""
        return str(issue_id)

    if sse:
        app = server.sse_app(transport_security=OPEN_HOSTS)
    else:
        app = server.streamable_http_app(
            json_response=True, stateless_http=True, transport_security=OPEN_HOSTS
        )
    metadata = build_metadata(issuer, None, registration, revocation)
    app.router.routes[0:0] = [
        Route(
            "/.well-known/oauth-authorization-server",
            MetadataHandler(metadata).handle,
            methods=["GET"],
        ),
        *create_auth_routes(
            provider,
            issuer_url=issuer,
            client_registration_options=registration,
            revocation_options=revocation,
        ),
    ]
    return step_up_guard(app, provider, f"{base_url}/.well-known/oauth-protected-resource{path}")


@dataclass
class Peer:
    url: str  # the MCP server's, as a connector would have it
    provider: HeadlessProvider
    log: RequestLog

    def paths(self) -> list[str]:
        return [path for _method, path, _query, _rpc in self.log.entries]


@pytest.fixture(scope="session")
def _servers():
    started = {}
    for transport, sse in (("streamable_http", False), ("sse", True)):
        provider = HeadlessProvider(callback_url=lambda: "http://127.0.0.1:8000/oauth/callback")
        log = RequestLog()
        served = serve_asgi(
            lambda base, provider=provider, log=log, sse=sse: logged(
                protected_server(base, provider, sse=sse), log
            ),
            name=f"OAuth-protected {transport} server",
        )
        path = "/sse" if sse else "/mcp"
        started[transport] = (Peer(served.url + path, provider, log), served)
    yield {transport: peer for transport, (peer, _served) in started.items()}
    for _peer, served in started.values():
        served.stop()


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.ORGCONNECTORS_BASE_URL = "http://127.0.0.1:8000"
    # Production settings refuse loopback; the command allows it for its own run only.
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False


def _fresh(peer: Peer) -> Peer:
    issuer = peer.url.rsplit("/", 1)[0]
    peer.provider.callback_url = lambda: callback_url(issuer)
    peer.provider.reset()
    peer.log.clear()
    return peer


@pytest.fixture
def server(_servers) -> Peer:
    """The OAuth-protected Streamable HTTP server, its provider forgetting all but the
    pre-registered client."""
    return _fresh(_servers["streamable_http"])


@pytest.fixture
def sse_server(_servers) -> Peer:
    """The same behind legacy HTTP+SSE only."""
    return _fresh(_servers["sse"])


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str


def run(*args: str) -> Ran:
    """The command as the suite runs it: what it prints, and the exit code that
    `run_from_argv` would give a CommandError."""
    out, err = StringIO(), StringIO()
    try:
        call_command("mcp_conformance_client", *args, stdout=out, stderr=err)
    except CommandError as failure:
        err.write(f"CommandError: {failure}\n")
        return Ran(failure.returncode, out.getvalue(), err.getvalue())
    return Ran(0, out.getvalue(), err.getvalue())


def _secrets_of(provider: Provider) -> list[str]:
    """Every token the provider issued and every client secret it holds."""
    issued = [*provider.access, *provider.refresh]
    return issued + [c.client_secret for c in provider.clients.values() if c.client_secret]


def _conformance_actions() -> list[str]:
    events = AuditEvent.objects.filter(organization__slug="conformance").order_by("pk")
    return list(events.values_list("action", flat=True))


def test_it_registers_authorizes_and_calls_the_first_tool_of_a_server_behind_oauth(server, caplog):
    ran = run(server.url)

    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "Authorized: tokens stored in the vault.",
        "Probed with the stored token: Healthy over Streamable HTTP; 2 tools: open_issues, "
        "close_issue.",
        "Called the first tool, open_issues.",
    ]
    assert server.provider.registrations == 1
    (asked,) = server.provider.authorize_params
    assert asked.scopes == ["tools:read"] and asked.resource == server.url
    rpc = server.log.rpc_methods()
    assert "tools/list" in rpc and rpc[-1] == "tools/call"
    printed = ran.stdout + ran.stderr + caplog.text
    secrets = _secrets_of(server.provider)
    assert len(secrets) == 4  # a token pair, the registration's and the pre-registered secret
    assert not [secret for secret in secrets if secret in printed]
    assert not Connector.objects.filter(organization__slug="conformance").exists()
    assert not Connection.objects.exists()
    actions = _conformance_actions()  # the trail outlives the connector
    assert "oauth.authorized" in actions
    assert actions[0] == "connector.registered"  # through the service, as an owner registers


def test_pre_registered_credentials_from_the_suite_replace_registration(server, settings):
    context = {"client_id": PREREGISTERED_ID, "client_secret": PREREGISTERED_SECRET}
    settings.MCP_CONFORMANCE_CONTEXT = json.dumps(context)  # from the suite's environment

    ran = run(server.url)

    assert ran.exit_code == 0, ran.stderr
    assert server.provider.registrations == 0
    assert "/register" not in server.paths()
    (issued,) = server.provider.access.values()
    assert issued.client_id == PREREGISTERED_ID
    assert PREREGISTERED_SECRET not in ran.stdout + ran.stderr


def test_a_declined_authorization_fails_the_command_saying_where_it_stopped(server):
    server.provider.decline = True

    ran = run(server.url)

    assert ran.exit_code == 1
    assert ran.stdout == ""
    assert ran.stderr == (
        "CommandError: Authorization did not complete: The authorization was declined at the "
        "server.\n"
    )
    assert len(server.provider.authorize_params) == 1
    assert "/token" not in server.paths()  # it stopped before the token exchange
    assert not Connector.objects.filter(organization__slug="conformance").exists()


def test_a_tool_call_refused_for_scope_steps_up_once_and_succeeds(server):
    server.provider.tool_call_scopes = ["tools:read", WRITE_SCOPE]

    ran = run(server.url)

    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.splitlines()[2:] == [
        "The server asked for more scope: tools:read tools:write.",
        "Authorized again with the scope asked for.",
        "Called the first tool, open_issues.",
    ]
    first, again = server.provider.authorize_params
    assert (first.scopes, again.scopes) == (["tools:read"], ["tools:read", WRITE_SCOPE])
    assert server.provider.registrations == 1  # the registration already covered tools:write
    assert server.log.rpc_methods().count("tools/call") == 2
    actions = _conformance_actions()
    assert actions.count("oauth.authorized") == 2
    assert actions.count("oauth.step_up_requested") == 1


def test_a_server_behind_oauth_on_legacy_sse_only_is_called_over_sse_and_steps_up_there(
    sse_server,
):
    sse_server.provider.tool_call_scopes = ["tools:read", WRITE_SCOPE]

    ran = run(sse_server.url)

    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "Authorized: tokens stored in the vault.",
        "Probed with the stored token: Healthy over HTTP+SSE (legacy); 2 tools: open_issues, "
        "close_issue.",
        "The server asked for more scope: tools:read tools:write.",
        "Authorized again with the scope asked for.",
        "Called the first tool, open_issues.",
    ]
    # Both calls went to the session's message endpoint, none to Streamable HTTP's POST /sse.
    calls = [e for e in sse_server.log.entries if e[3] == "tools/call"]
    assert [path for _method, path, _query, _rpc in calls] == ["/messages/", "/messages/"]
    asked = [params.resource for params in sse_server.provider.authorize_params]
    assert asked == [sse_server.url, sse_server.url]


def test_a_tool_that_answers_with_an_error_is_reported_without_failing_the_run(server):
    server.provider.tool_fails = True

    ran = run(server.url)

    assert ran.exit_code == 0, ran.stderr
    assert (
        ran.stdout.splitlines()[-1]
        == "Called the first tool, open_issues: it answered with an error."
    )


@pytest.mark.parametrize("transport", ["streamable_http", "sse"])
def test_a_call_without_a_token_is_seen_to_need_authorization_over_either_transport(
    _servers, transport, settings
):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = True
    peer = _fresh(_servers[transport])

    assert first_tool_needs_authorization(peer.url, transport)
    assert "tools/call" not in peer.log.rpc_methods()  # it stopped at the first 401
