"""The organization endpoint's listing: `{BASE_URL}/mcp/{org}`, every connector the calling
member has connected behind one MCP server.

Each tool is named `{connector}__{tool}`: {connector} is the connector's server name as the
Messages API configuration names it (messages_api/builder.py `server_names`: the slug of its
display name, the oldest keeping it when two share one), {tool} the upstream tool's own name.
Names keep to the rules of MCP and of the Messages API, `^[a-zA-Z0-9_-]{1,64}$`: a name that
would be longer, or hold another character, is cut and ends with `_` and eight hex digits of
the SHA-256 of the full name, so it stays the same from one listing to the next and two tools
never share one.

The listing is built from each connector's approved definitions (listing.py through
access.py, the same per-connector access the calls use), never fetched from the servers, and
reused in process memory for ORGCONNECTORS_GATEWAY_CACHE_SECONDS. A connector that fails its
health checks (Connector.FAILING_STATUSES), or whose connection cannot be used now, is left out
with a note in the result's `_meta`, not an error for the whole endpoint.
"""

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field

import mcp_types as types
from django.conf import settings

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.gateway.access import EndpointNotFound, endpoint_access
from orgconnectors.gateway.caller import Caller
from orgconnectors.gateway.threads import in_thread
from orgconnectors.messages_api.builder import server_names

NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
NAME_MAX = 64
SEPARATOR = "__"
LEFT_OUT_KEY = "orgconnectors/left_out"
_HASH_LENGTH = 8


def org_tool_name(server_name: str, tool: str) -> str:
    """`{server_name}__{tool}`, within ^[a-zA-Z0-9_-]{1,64}$ (deterministic; see the module)."""
    full = f"{server_name}{SEPARATOR}{tool}"
    if NAME_RULE.match(full):
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_LENGTH]
    cleaned = re.sub(r"[^a-zA-Z0-9_-]", "_", full)
    return f"{cleaned[: NAME_MAX - _HASH_LENGTH - 1]}_{digest}"


@dataclass(frozen=True)
class Route:
    connector_id: int
    tool: str  # the upstream tool's own name


@dataclass(frozen=True)
class OrgListing:
    result: types.ListToolsResult
    routes: dict[str, Route] = field(default_factory=dict)
    # {server name: why it is left out}, to explain a call to one of its tools.
    left_out: dict[str, str] = field(default_factory=dict)
    # Tools known on a connected connector but not handed out (blocked, held): why.
    refusals: dict[str, str] = field(default_factory=dict)

    def refusal(self, name: str) -> str:
        if name in self.refusals:
            return self.refusals[name]
        server, _, _tool = name.partition(SEPARATOR)
        if server in self.left_out:
            return self.left_out[server]
        return (
            f"Unknown tool {name!r}: none of your connected connectors hands out a tool of "
            "that name (tools are named {connector}__{tool})."
        )


def _load(caller: Caller) -> OrgListing:
    names = server_names(
        Connector.objects.filter(organization_id=caller.organization_id).values_list("pk", "name")
    )
    connections = (
        Connection.objects.filter(
            membership_id=caller.membership_id,
            connector__organization_id=caller.organization_id,
            state=Connection.State.ENABLED,
        )
        .select_related("connector")
        .order_by("connector_id")
    )
    tools: list[dict] = []
    routes: dict[str, Route] = {}
    notes: list[dict] = []
    left_out: dict[str, str] = {}
    refusals: dict[str, str] = {}
    for connection in connections:
        connector = connection.connector
        server = names.get(connector.pk, str(connector.pk))
        reason = ""
        if connector.failing:
            status = Connector.Status(connector.status).label.lower()
            detail = f" ({connector.last_error})" if connector.last_error else ""
            reason = (
                f"{connector.name} is {status}{detail}; its tools are left out until its "
                "health checks pass again."
            )
        else:
            try:
                access = endpoint_access(caller=caller, connector_id=connector.pk)
            except EndpointNotFound as exc:
                reason = str(exc)
            else:
                reason = access.blocked_reason
        if reason:
            notes.append({"connector": server, "connector_id": connector.pk, "reason": reason})
            left_out[server] = reason
            continue
        for definition in access.tools:
            name = org_tool_name(server, definition["name"])
            tools.append({**definition, "name": name})
            routes[name] = Route(connector.pk, definition["name"])
        for tool, why in access.refusals.items():
            refusals[org_tool_name(server, tool)] = why
    listed = {"tools": tools}
    if notes:
        listed["_meta"] = {LEFT_OUT_KEY: notes}
    return OrgListing(
        result=types.ListToolsResult.model_validate(listed),
        routes=routes,
        left_out=left_out,
        refusals=refusals,
    )


_cache: dict[int, tuple[float, OrgListing]] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 10_000


def org_listing(*, caller: Caller) -> OrgListing:
    """The caller's organization listing, at most ORGCONNECTORS_GATEWAY_CACHE_SECONDS old.
    Runs queries on a miss: call it from a thread in async code."""
    found = _cache.get(caller.membership_id)
    now = time.monotonic()
    if found is not None and found[0] >= now:
        return found[1]
    listing = _load(caller)
    ttl = settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS
    if ttl > 0:
        with _cache_lock:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[caller.membership_id] = (now + ttl, listing)
    return listing


_org_listing_in_thread = in_thread(org_listing)


async def aorg_listing(*, caller: Caller) -> OrgListing:
    found = _cache.get(caller.membership_id)
    if found is not None and found[0] >= time.monotonic():
        return found[1]
    return await _org_listing_in_thread(caller=caller)


def forget_cached_org_listings() -> None:
    with _cache_lock:
        _cache.clear()
