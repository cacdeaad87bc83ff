"""The gateway's MCP server: `{BASE_URL}/mcp/{org}/{connector id}` and the organization
endpoint `{BASE_URL}/mcp/{org}` (every connector the member connected, organization.py), over
Streamable HTTP.

One SDK low-level server per process serves every endpoint, in stateless mode: any worker
process can answer any request (granian runs several, without sticky sessions), and the
protocol revisions the SDK serves (2025-06-18, 2025-11-25 and 2026-07-28) all work. Tools only:
`initialize` declares the tools capability and nothing else, with `listChanged` false: a
stateless server sends no notification of its own, so a client sees a connection enabled or
disabled, or a tool approved or blocked, at its next `tools/list`.

Per request, before the SDK sees it, the ASGI app checks the caller (caller.py) and that the
connector is theirs (access.py), and leaves both in the ASGI scope for the handlers. Per call,
the handler reads the member's access again (from memory, at most a few seconds old), refuses
what is not handed out, calls upstream over the pooled session (upstream.py), and appends one
usage row to the buffer written off the path (usage_buffer.py).
"""

import asyncio
import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import anyio
import mcp_types as types
from django.conf import settings
from django.utils import timezone
from mcp import MCPError
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import (
    DEFAULT_MAX_REQUEST_BODY_SIZE,
    TransportSecuritySettings,
)

from orgconnectors.audit.models import UsageEvent
from orgconnectors.connectors.call_approvals import (
    call_approval_expire,
    call_approval_request,
    call_approval_state,
)
from orgconnectors.connectors.models import CallApproval
from orgconnectors.core.metrics import gateway_call_counted
from orgconnectors.gateway.access import (
    Access,
    EndpointNotFound,
    aendpoint_access,
    connection_upstream_refused,
)
from orgconnectors.gateway.caller import Caller, CallerRejected, acaller_resolve
from orgconnectors.gateway.organization import aorg_listing
from orgconnectors.gateway.quotas import quota_hit
from orgconnectors.gateway.sessions import session_seen, sessions_flush
from orgconnectors.gateway.threads import in_thread
from orgconnectors.gateway.upstream import UpstreamFailed, upstream_pool, upstream_pool_close
from orgconnectors.gateway.usage_buffer import usage_add, usage_flush, usage_pending

logger = logging.getLogger(__name__)

PREFIX = "/mcp/"
_PATH = re.compile(r"^/mcp/(?P<org>[-a-zA-Z0-9_]{1,64})(?:/(?P<connector>[0-9]{1,18}))?/?$")
SCOPE_KEY = "orgconnectors.gateway"
MAX_BODY_BYTES = DEFAULT_MAX_REQUEST_BODY_SIZE

OK, TOOL_ERROR, UPSTREAM_ERROR, DENIED, CANCELLED = (
    "ok", "tool_error", "upstream_error", "denied", "cancelled",
)  # fmt: skip
# JSON-RPC error codes of the gateway's refusals (the SDK's own for unknown tools, -32602).
DENIED_CODE = types.INVALID_PARAMS
NOT_CONNECTED_CODE = -32001
UPSTREAM_CODE = -32002
QUOTA_CODE = -32003

INSTRUCTIONS = (
    "orgconnectors gateway: the tools your organization approved on this connector (or, on "
    "the organization endpoint, on every connector you connected, named "
    "{connector}__{tool}), called with your own connection. Tools only: no resources, "
    "prompts or completions."
)


@dataclass(frozen=True)
class Endpoint:
    caller: Caller
    connector_id: int | None  # None: the organization endpoint
    user_agent: str

    def on(self, connector_id: int) -> "Endpoint":
        return Endpoint(caller=self.caller, connector_id=connector_id, user_agent=self.user_agent)


# Client names from `initialize`, for the calls that follow it on other requests (stateless).
_client_infos: "OrderedDict[tuple, tuple[str, str]]" = OrderedDict()
_CLIENT_INFOS_MAX = 10_000


def _endpoint(ctx) -> Endpoint:
    request = ctx.request
    endpoint = request.scope.get(SCOPE_KEY) if request is not None else None
    if endpoint is None:  # only requests that passed the ASGI app reach the server
        raise MCPError(types.INTERNAL_ERROR, "The gateway lost track of this request.")
    return endpoint


def _client_key(endpoint: Endpoint) -> tuple:
    return (endpoint.caller.membership_id, endpoint.caller.api_token_id, endpoint.connector_id)


def _client_info(ctx, endpoint: Endpoint) -> tuple[str, str]:
    params = ctx.session.client_params
    if params is not None and params.client_info is not None:
        return params.client_info.name[:100], (params.client_info.version or "")[:50]
    known = _client_infos.get(_client_key(endpoint))
    if known is not None:
        return known
    return endpoint.user_agent[:100], ""


async def _remember_client(ctx, call_next):
    """Middleware: the clientInfo of each `initialize`, for the usage rows of later calls."""
    if ctx.method == "initialize" and ctx.request is not None and ctx.params:
        info = ctx.params.get("clientInfo") or {}
        endpoint = ctx.request.scope.get(SCOPE_KEY)
        if endpoint is not None and isinstance(info, dict):
            key = _client_key(endpoint)
            _client_infos[key] = (
                str(info.get("name") or "")[:100],
                str(info.get("version") or "")[:50],
            )
            _client_infos.move_to_end(key)
            while len(_client_infos) > _CLIENT_INFOS_MAX:
                _client_infos.popitem(last=False)
    return await call_next(ctx)


# The organization endpoint's tools/list in its wire form, per member and protocol revision,
# for as long as the listing it was made from is the one in memory: the SDK validates and dumps
# every result it sends, which for 10 connectors x 20 tools costs more than the rest of the
# request; the listing it would check is the same object it checked last time.
_wire_listings: dict[tuple[int, str], tuple[object, dict]] = {}
_WIRE_LISTINGS_MAX = 10_000


async def _org_listing_wire(ctx, call_next):
    """Middleware: the organization listing's wire dict, reused while its listing is."""
    if ctx.method != "tools/list" or ctx.request is None or (ctx.params or {}).get("cursor"):
        return await call_next(ctx)
    endpoint = ctx.request.scope.get(SCOPE_KEY)
    if endpoint is None or endpoint.connector_id is not None:
        return await call_next(ctx)
    listing = await aorg_listing(caller=endpoint.caller)
    key = (endpoint.caller.membership_id, ctx.protocol_version)
    known = _wire_listings.get(key)
    if known is not None and known[0] is listing:
        _seen(ctx, endpoint, call=False)
        return known[1]
    wire = await call_next(ctx)
    if len(_wire_listings) >= _WIRE_LISTINGS_MAX:
        _wire_listings.clear()
    _wire_listings[key] = (listing, wire)
    return wire


async def _access(endpoint: Endpoint) -> Access:
    try:
        return await aendpoint_access(caller=endpoint.caller, connector_id=endpoint.connector_id)
    except EndpointNotFound as exc:
        raise MCPError(NOT_CONNECTED_CODE, str(exc), {"outcome": DENIED}) from None


def _seen(ctx, endpoint: Endpoint, *, call: bool) -> tuple[str, str]:
    """The client's name and version; records the sighting for owners' live view."""
    client = _client_info(ctx, endpoint)
    caller = endpoint.caller
    session_seen(
        organization_id=caller.organization_id,
        membership_id=caller.membership_id,
        connector_id=endpoint.connector_id,
        client=client[0],
        call=call,
    )
    return client


async def list_tools(ctx, params) -> types.ListToolsResult:
    endpoint = _endpoint(ctx)
    _seen(ctx, endpoint, call=False)
    if endpoint.connector_id is None:
        return (await aorg_listing(caller=endpoint.caller)).result
    access = await _access(endpoint)
    if access.blocked_reason:
        raise MCPError(NOT_CONNECTED_CODE, access.blocked_reason, {"outcome": DENIED})
    return types.ListToolsResult.model_validate({"tools": access.tools})


def _size(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str)) if value else 0


class _Call:
    """One call's facts for its usage row and metrics."""

    def __init__(self, ctx, endpoint: Endpoint, name: str, arguments, client=None) -> None:
        self.endpoint = endpoint
        self.name = name[:128]
        self.client = client or _client_info(ctx, endpoint)
        self.started_at = timezone.now()
        self.started = time.monotonic()
        self.request_bytes = _size(arguments)
        self.response_bytes = 0
        self.call_id = uuid.uuid4().hex
        # Set once access is known: where the organization keeps bodies, these go with the row
        # (redacted when the row is written, off the call's path).
        self.keep_bodies = False
        self.arguments = arguments
        self.response: dict | None = None

    def record(self, outcome: str, reason: str = "") -> None:
        seconds = time.monotonic() - self.started
        caller = self.endpoint.caller
        details = {
            "tool": self.name,
            "outcome": outcome,
            "client_name": self.client[0],
            "client_version": self.client[1],
            "started_at": self.started_at.isoformat(),
            "duration_ms": round(seconds * 1000, 1),
            "request_bytes": self.request_bytes,
            "response_bytes": self.response_bytes,
            "via": caller.how,
            "call_id": self.call_id,
        }
        if reason:
            details["reason"] = reason[:300]
        row = {
            "organization": caller.organization_id,
            "kind": UsageEvent.Kind.TOOL_CALL,
            "user": caller.user_id,
            "connector": self.endpoint.connector_id,
            "api_token": caller.api_token_id,
            "details": details,
        }
        if self.keep_bodies:
            response = self.response if self.response is not None else {"refused": reason}
            row["body"] = {"request": self.arguments or {}, "response": response}
        usage_add(row)
        gateway_call_counted(outcome=outcome, seconds=seconds)


_upstream_refused = in_thread(connection_upstream_refused)


class _Watch:
    """While a call is upstream, its access is read again every cache period (from memory
    mostly): a member removed, a connection disconnected or the tool blocked ends the call
    with an error saying so. Costs a timer per call; a check only for calls that last."""

    def __init__(self, endpoint: Endpoint, tool: str) -> None:
        self.endpoint = endpoint
        self.tool = tool
        self.reason = ""
        self._timer: asyncio.TimerHandle | None = None
        self._check: asyncio.Task | None = None
        self._interval = max(settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS, 0.5)

    def start(self, scope: anyio.CancelScope) -> None:
        self._scope = scope
        self._timer = asyncio.get_running_loop().call_later(self._interval, self._due)

    def _due(self) -> None:
        self._check = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            access = await aendpoint_access(
                caller=self.endpoint.caller, connector_id=self.endpoint.connector_id
            )
            reason = access.blocked_reason
            if not reason and self.tool not in access.tool_names:
                reason = access.refusal(self.tool)
        except EndpointNotFound as exc:
            reason = str(exc)
        except Exception:  # a failed check leaves the call alone; the next one may pass
            logger.exception("gateway: the access check of a call in flight failed")
            reason = ""
        if reason:
            self.reason = reason
            self._scope.cancel()
        elif self._timer is not None:
            self._timer = asyncio.get_running_loop().call_later(self._interval, self._due)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._check is not None and not self._check.done():
            self._check.cancel()


async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    endpoint = _endpoint(ctx)
    client = _seen(ctx, endpoint, call=True)
    if endpoint.connector_id is not None:
        return await _call_tool(ctx, endpoint, params.name, params.arguments, client=client)
    listing = await aorg_listing(caller=endpoint.caller)
    route = listing.routes.get(params.name)
    if route is None:
        reason = listing.refusal(params.name)
        _Call(ctx, endpoint, params.name, params.arguments, client).record(DENIED, reason)
        raise MCPError(DENIED_CODE, reason, {"outcome": DENIED})
    # The client as it introduced itself to the organization endpoint.
    routed = endpoint.on(route.connector_id)
    return await _call_tool(ctx, routed, route.tool, params.arguments, client=client)


async def _call_tool(
    ctx, endpoint: Endpoint, name: str, arguments, client=None
) -> types.CallToolResult:
    """One call of `name` on endpoint's connector: the per-connector path, which the
    organization endpoint takes too once it has found the connector and the tool."""
    call = _Call(ctx, endpoint, name, arguments, client)
    try:
        access = await _access(endpoint)
    except MCPError as exc:
        call.record(DENIED, exc.error.message)
        raise
    call.keep_bodies = access.keep_bodies
    if access.blocked_reason:
        call.record(DENIED, access.blocked_reason)
        raise MCPError(NOT_CONNECTED_CODE, access.blocked_reason, {"outcome": DENIED})
    if name not in access.tool_names:
        reason = access.refusal(name)
        call.record(DENIED, reason)
        raise MCPError(DENIED_CODE, reason, {"outcome": DENIED})
    if access.token_unavailable:
        call.record(UPSTREAM_ERROR, access.token_unavailable)
        raise MCPError(UPSTREAM_CODE, access.token_unavailable, {"outcome": UPSTREAM_ERROR})
    if access.quota_rules:
        over = await quota_hit(
            rules=access.quota_rules,
            organization_id=endpoint.caller.organization_id,
            membership_id=endpoint.caller.membership_id,
            tool=name,
        )
        if over is not None:
            call.record(DENIED, over.message)
            raise MCPError(QUOTA_CODE, over.message, over.data)
    if name in access.needs_approval:
        refused = await _approval(endpoint, call, name, arguments)
        if refused:
            call.record(DENIED, refused)
            raise MCPError(DENIED_CODE, refused, {"outcome": DENIED, "approval": "refused"})

    async def progress(value: float, total: float | None, message: str | None) -> None:
        await ctx.session.report_progress(value, total, message)

    watch = _Watch(endpoint, name)
    try:
        with anyio.CancelScope() as scope:
            watch.start(scope)
            result = await upstream_pool().call(
                connector_id=access.connector_id,
                user_id=endpoint.caller.user_id,
                url=access.url,
                transport=access.transport,
                token=access.upstream_token,
                name=name,
                arguments=arguments,
                progress=progress,
            )
    except anyio.get_cancelled_exc_class():
        call.record(CANCELLED)
        raise
    except UpstreamFailed as exc:
        reason = str(exc)
        if exc.unauthorized and access.connection_id is not None:
            reason = await _upstream_refused(
                connection_id=access.connection_id, caller=endpoint.caller
            )
        call.record(UPSTREAM_ERROR, reason)
        data = {"outcome": UPSTREAM_ERROR, "needs_authorization": exc.unauthorized}
        raise MCPError(UPSTREAM_CODE, reason, data) from None
    except MCPError as exc:
        call.record(UPSTREAM_ERROR, exc.error.message)
        raise
    finally:
        watch.stop()
    if scope.cancelled_caught:  # the watch ended it: access was withdrawn meanwhile
        call.record(DENIED, watch.reason)
        raise MCPError(NOT_CONNECTED_CODE, watch.reason, {"outcome": DENIED})
    call.response_bytes = len(result.model_dump_json(by_alias=True, exclude_none=True))
    if call.keep_bodies:
        call.response = result.model_dump(by_alias=True, exclude_none=True, mode="json")
    call.record(TOOL_ERROR if result.is_error else OK)
    return result


_approval_request = in_thread(call_approval_request)
_approval_state = in_thread(call_approval_state)
_approval_expire = in_thread(call_approval_expire)
APPROVAL_POLL_SECONDS = 0.25


async def _approval(endpoint: Endpoint, call: _Call, name: str, arguments) -> str:
    """Waits for an approver's answer to this call; "" when allowed, else why it is refused.
    Polls the row (one indexed query every APPROVAL_POLL_SECONDS while it waits)."""
    caller = endpoint.caller
    approval = await _approval_request(
        organization_id=caller.organization_id,
        connector_id=endpoint.connector_id,
        membership_id=caller.membership_id,
        tool_name=name,
        client=call.client[0],
        arguments=arguments,
    )
    deadline = approval.expires_at.timestamp()
    state = CallApproval.State.PENDING
    while state == CallApproval.State.PENDING:
        if time.time() >= deadline:
            state = (await _approval_expire(approval_id=approval.pk)).state
            break
        await asyncio.sleep(min(APPROVAL_POLL_SECONDS, max(deadline - time.time(), 0.01)))
        state = await _approval_state(approval_id=approval.pk)
    if state == CallApproval.State.ALLOWED:
        return ""
    if state == CallApproval.State.DENIED:
        return f"An approver of your organization denied this call of {name!r}."
    seconds = round(deadline - approval.created_at.timestamp())
    return (
        f"No approver of your organization answered this call of {name!r} within {seconds} s; "
        "it was not made."
    )


def build_server() -> Server:
    server = Server(
        "orgconnectors-gateway",
        version="1.0",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        # 2026-07-28's Mcp-Param headers are left to the upstream server to check: the
        # gateway's listing depends on the caller, which this hook does not know.
        get_tool_input_schema=lambda name: None,
    )
    # Without the SDK's OpenTelemetry middleware: a span per message costs even unexported.
    server.middleware = [_remember_client, _org_listing_wire]
    return server


async def _answer(send, status: int, detail: str, headers: dict[str, str] | None = None):
    body = json.dumps({"error": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    raw += [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return ""


async def _read_body(receive) -> tuple[bytes, bool]:
    """The request body, and whether it stayed within MAX_BODY_BYTES."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"", True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"", False
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks), True


def _replaying(body: bytes, receive):
    replayed = False

    async def replay():
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class GatewayApp:
    """The ASGI app for /mcp/. Its session managers start on first use (granian's asginl
    interface sends no lifespan events) or at a lifespan startup, on the serving loop.

    Two stateless managers serve the same server: one answers with an SSE stream, for the
    requests that asked for progress (a progressToken: notifications pass through as they
    come), the other with one JSON body, which costs the gateway less per call."""

    def __init__(self) -> None:
        self.server = build_server()
        self._streaming: StreamableHTTPSessionManager | None = None
        self._json: StreamableHTTPSessionManager | None = None
        self._started: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._runner: asyncio.Task | None = None

    async def _run_managers(self) -> None:
        async with self._streaming.run(), self._json.run():
            self._started.set()
            await self._stop.wait()

    def _manager(self, *, json_response: bool) -> StreamableHTTPSessionManager:
        return StreamableHTTPSessionManager(
            app=self.server,
            stateless=True,
            json_response=json_response,
            # Clients here are servers and apps, not browsers: no DNS-rebinding check.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    async def start(self) -> None:
        if self._started is None:
            self._started, self._stop = asyncio.Event(), asyncio.Event()
            self._streaming = self._manager(json_response=False)
            self._json = self._manager(json_response=True)
            self._runner = asyncio.get_running_loop().create_task(self._run_managers())
        await self._started.wait()

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
            if self._runner is not None:
                await asyncio.wait([self._runner], timeout=10)
        await upstream_pool_close()
        await sessions_flush()
        if usage_pending():
            await in_thread(usage_flush)()

    async def __call__(self, scope, receive, send) -> None:
        match = _PATH.match(scope["path"])
        if match is None:
            detail = "No such gateway endpoint: use /mcp/{org} or /mcp/{org}/{connector id}."
            await _answer(send, 404, detail)
            return
        org, connector = match["org"], match["connector"]
        resource_url = f"{settings.ORGCONNECTORS_BASE_URL}/mcp/{org}" + (
            f"/{connector}" if connector else ""
        )
        try:
            caller = await acaller_resolve(
                _header(scope, b"authorization"),
                resource_url=resource_url,
                organization_slug=org,
            )
        except CallerRejected as rejected:
            headers = {"WWW-Authenticate": rejected.www_authenticate}
            await _answer(send, rejected.status, rejected.detail, headers)
            return
        if connector:
            try:
                await aendpoint_access(caller=caller, connector_id=int(connector))
            except EndpointNotFound as exc:
                await _answer(send, 404, str(exc))
                return
        scope = dict(scope)
        scope[SCOPE_KEY] = Endpoint(
            caller=caller,
            connector_id=int(connector) if connector else None,
            user_agent=_header(scope, b"user-agent"),
        )
        if scope["method"] == "GET":
            # Stateless: the gateway never sends a message of its own, so a stream opened for
            # them would only hold a connection (and a server's shutdown) for nothing.
            await _answer(
                send,
                405,
                "The gateway is stateless and sends no messages of its own; POST requests.",
                {"Allow": "POST"},
            )
            return
        await self.start()
        manager = self._streaming
        if scope["method"] == "POST":
            body, within = await _read_body(receive)
            if not within:
                await _answer(send, 413, f"The request is larger than {MAX_BODY_BYTES} bytes.")
                return
            receive = _replaying(body, receive)
            if b'"progressToken"' not in body:
                manager = self._json
        await manager.handle_request(scope, receive, send)


def with_gateway(django_app):
    """The project's ASGI application: /mcp/ to the gateway, everything else to Django. Takes
    lifespan events when the server sends them (uvicorn) to start and stop the gateway."""
    gateway = GatewayApp()

    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await gateway.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await gateway.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            await gateway(scope, receive, send)
            return
        await django_app(scope, receive, send)

    application.gateway = gateway
    return application
