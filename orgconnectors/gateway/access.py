"""What a member may do on one connector through the gateway, read per call from process
memory, refreshed from the database every ORGCONNECTORS_GATEWAY_CACHE_SECONDS.

A miss costs six to eight indexed queries (connector with its overrides, membership, an
owner's hold on the member's session, connection, quotas, credential; a refresh when the token
is about to expire); a hit costs none. So a connector removed or paused, a connection
disconnected or suspended, a member removed or held, or a tool blocked stops the member's calls
within that time.
"""

import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from orgconnectors.connectors.call_approvals import tools_needing_approval
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.pauses import hold_reason, paused_reason
from orgconnectors.connectors.quotas import QuotaRule, quota_rules
from orgconnectors.core.actor import Actor
from orgconnectors.encryption import DecryptionFailed
from orgconnectors.gateway.caller import Caller
from orgconnectors.gateway.listing import handed_out, refusals
from orgconnectors.gateway.threads import in_thread
from orgconnectors.oauth.errors import NeedsAuthorization, TokenUnavailable
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh_on_demand import credential_fresh_access_token
from orgconnectors.oauth.refresh_outcomes import credential_lapse, locked_connection
from orgconnectors.organizations.models import Membership

# An upstream token handed to a call lasts at least this long.
MIN_VALID_SECONDS = 60


class EndpointNotFound(Exception):
    """No such connector in the caller's organization (or not theirs): a 404."""


@dataclass(frozen=True)
class Access:
    connector_id: int
    connector_name: str
    url: str
    transport: str  # streamable_http or sse: what the health check found, else the owner's
    connection_id: int | None
    # Empty when calls may go upstream; else the sentence that refuses them.
    blocked_reason: str
    tools: list[dict] = field(default_factory=list)
    tool_names: frozenset[str] = frozenset()
    refusals: dict[str, str] = field(default_factory=dict)  # tools known but not handed out
    upstream_token: str = field(default="", repr=False)
    token_unavailable: str = ""  # a refresh failed for now: calls fail, but not "denied"
    # The organization keeps each call's arguments and result (redacted) for its auditors.
    keep_bodies: bool = False
    # The quotas a call meets (connectors/quotas.py), the narrowest first.
    quota_rules: tuple[QuotaRule, ...] = ()
    # Tools whose calls wait for an approver (connectors/call_approvals.py).
    needs_approval: frozenset[str] = frozenset()

    def refusal(self, name: str) -> str:
        return self.refusals.get(name) or (
            f"Unknown tool {name!r}: {self.connector_name} hands out no tool of that name."
        )


def _transport(connector: Connector) -> str:
    if connector.detected_transport in (
        Connector.Transport.STREAMABLE_HTTP,
        Connector.Transport.SSE,
    ):
        return connector.detected_transport
    if connector.transport == Connector.Transport.SSE:
        return Connector.Transport.SSE
    return Connector.Transport.STREAMABLE_HTTP


def _load(caller: Caller, connector_id: int) -> Access:
    connector = (
        Connector.objects.select_related("organization__plan")
        .prefetch_related("tool_overrides")
        .filter(pk=connector_id, organization_id=caller.organization_id)
        .first()
    )
    if connector is None:
        raise EndpointNotFound(f"No connector {connector_id} in this organization.")
    common = {
        "connector_id": connector.pk,
        "connector_name": connector.name,
        "url": connector.url,
        "transport": _transport(connector),
    }
    if not Membership.objects.filter(pk=caller.membership_id).exists():
        return Access(**common, connection_id=None, blocked_reason="You are no longer a member.")
    if connector.paused_at is not None:
        return Access(**common, connection_id=None, blocked_reason=paused_reason(connector))
    held = hold_reason(membership_id=caller.membership_id, connector_id=connector.pk)
    if held:
        return Access(**common, connection_id=None, blocked_reason=held)
    connection = (
        Connection.objects.filter(membership_id=caller.membership_id, connector=connector)
        .values("pk", "state", "state_reason")
        .first()
    )
    if connection is None or connection["state"] != Connection.State.ENABLED:
        reason = (connection or {}).get("state_reason") or (
            f"You are not connected to {connector.name}; connect it on My connectors first."
        )
        return Access(**common, connection_id=(connection or {}).get("pk"), blocked_reason=reason)
    tools = handed_out(connector)
    names = frozenset(t["name"] for t in tools)
    token, unavailable = "", ""
    if connector.auth == Connector.Auth.OAUTH:
        try:
            token = credential_fresh_access_token(
                connection=connection["pk"], min_valid_seconds=MIN_VALID_SECONDS
            )
        except NeedsAuthorization as exc:
            return Access(**common, connection_id=connection["pk"], blocked_reason=str(exc))
        except (TokenUnavailable, DecryptionFailed) as exc:
            unavailable = str(exc) or "The connection's token cannot be read right now."
    return Access(
        **common,
        connection_id=connection["pk"],
        blocked_reason="",
        tools=tools,
        tool_names=names,
        refusals=refusals(connector, names),
        upstream_token=token,
        token_unavailable=unavailable,
        keep_bodies=connector.organization.keep_tool_call_bodies,
        quota_rules=quota_rules(organization=connector.organization, connector=connector),
        needs_approval=tools_needing_approval(connector),
    )


_cache: dict[tuple[int, int], tuple[float, Access]] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 10_000


def endpoint_access(*, caller: Caller, connector_id: int) -> Access:
    """The caller's access to the connector, at most ORGCONNECTORS_GATEWAY_CACHE_SECONDS old.
    Raises EndpointNotFound. Runs queries on a miss: call it from a thread in async code."""
    key = (caller.membership_id, connector_id)
    found = _cache.get(key)
    now = time.monotonic()
    if found is not None and found[0] >= now:
        return found[1]
    access = _load(caller, connector_id)
    ttl = settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS
    if ttl > 0:
        with _cache_lock:
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[key] = (now + ttl, access)
    return access


_endpoint_access_in_thread = in_thread(endpoint_access)


async def aendpoint_access(*, caller: Caller, connector_id: int) -> Access:
    """`endpoint_access` for the event loop: a cached answer costs no thread and no query."""
    found = _cache.get((caller.membership_id, connector_id))
    if found is not None and found[0] >= time.monotonic():
        return found[1]
    return await _endpoint_access_in_thread(caller=caller, connector_id=connector_id)


def forget_cached_access(*, membership_id: int | None = None, connector_id: int | None = None):
    with _cache_lock:
        for key in list(_cache):
            if membership_id in (None, key[0]) and connector_id in (None, key[1]):
                _cache.pop(key, None)


UPSTREAM_REFUSED = "invalid_token"
GATEWAY_ACTOR = Actor.system("gateway")


def connection_upstream_refused(*, connection_id: int, caller: Caller) -> str:
    """The connector's server answered 401 to the member's token: the connection needs
    authorization again (banner, email, audit event, as a failed refresh). Returns the reason
    for the client."""
    reason = (
        "The connector's server refused your authorization (HTTP 401); authorize the "
        "connection again on My connectors."
    )
    with transaction.atomic():
        connection = locked_connection(connection_id)
        if connection is not None and connection.state == Connection.State.ENABLED:
            credential = OAuthCredential.objects.filter(connection=connection).first()
            credential_lapse(
                connection=connection,
                credential=credential,
                error=UPSTREAM_REFUSED,
                reason=reason,
                actor=GATEWAY_ACTOR,
            )
    forget_cached_access(membership_id=caller.membership_id)
    return reason
