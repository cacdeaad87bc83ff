"""What goes into a Messages API request, from a member's connections, the tool policies, the
approved tool listings and their tokens. Pure: no database, no network, no clock; the services
gather the facts.

The field names and rules are the Messages API's MCP connector: one `{"type": "url"}` entry in
`mcp_servers` per server, with a unique name, and exactly one `mcp_toolset` in `tools` naming it.
Under beta `mcp-client-2026-09-15` (the default) each toolset carries `tools`, the approved
definitions of the tools the member may use, pinned; under `mcp-client-2025-11-20`, which cannot
pin, a connector with an approved listing becomes an allowlist of its approved, allowed tools.
A connector never approved keeps its tool policy as allowlists or denylists of `configs`.
"""

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder

from orgconnectors.connectors import tool_review
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.tool_review import Governance, ToolReview

BETA_2026_09_15 = "mcp-client-2026-09-15"  # toolsets may pin `tools`
BETA_2025_11_20 = "mcp-client-2025-11-20"  # toolsets without `tools`; the migration's target
BETAS = (BETA_2026_09_15, BETA_2025_11_20)
DEFAULT_BETA = BETA_2026_09_15
DEPRECATED_BETA = "mcp-client-2025-04-04"
ANTHROPIC_VERSION = "2023-06-01"


def headers(beta: str = DEFAULT_BETA) -> dict[str, str]:
    return {"anthropic-beta": beta, "anthropic-version": ANTHROPIC_VERSION}


_NAME_MAX = 64


@dataclass(frozen=True)
class Policy:
    """A connector's tool policy: the default and the owners' per-tool decisions."""

    default_enabled: bool
    overrides: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Leftout:
    """A connection left out of the configuration, and why, for the app to tell the member."""

    code: str
    message: str
    connector_id: int | None = None
    connector_name: str | None = None
    tools: tuple[str, ...] | None = None  # the tools it is about, for warnings about tools

    def as_json(self) -> dict:
        answer = {
            "code": self.code,
            "connector_id": self.connector_id,
            "connector_name": self.connector_name,
            "message": self.message,
        }
        if self.tools is not None:
            answer["tools"] = list(self.tools)
        return answer


class PinnedTools(list):
    """A pinned listing (Messages API tools), with its JSON written once: it is most of an
    answer, and kept between answers (tool_handouts.py), so it is never changed in place."""

    __slots__ = ("json",)

    def __init__(self, tools=()):
        super().__init__(tools)
        self.json = _dumps(list(self))


def _dumps(value) -> str:
    # As the API's renderer writes JSON (ninja's encoder is a DjangoJSONEncoder).
    return json.dumps(value, cls=DjangoJSONEncoder)


@dataclass(frozen=True)
class ToolHandout:
    """What a connector's tool listing gives members, worked out once per listing, policy and
    settings (tool_handouts.py keeps it): treat the definitions as read-only."""

    listed: bool  # an owner (or the first use) approved a listing
    held_back: bool = False  # never approved, and owners review first: the connector is left out
    # Under 2026-09-15: the approved definitions of the tools members get, as Messages API tools.
    pinned: PinnedTools = field(default_factory=PinnedTools)
    # Under 2025-11-20: the approved, allowed tools whose definition the server still lists.
    allowlist: tuple[str, ...] = ()
    held: tuple[tuple[str, str], ...] = ()  # (name, review) allowed by the policy but held
    pinned_older: tuple[str, ...] = ()  # changed on the server, handed out as approved
    hold_changed: bool = False

    @classmethod
    def unlisted(cls, *, review_first: bool) -> "ToolHandout":
        return cls(listed=False, held_back=review_first)


@dataclass(frozen=True)
class ConnectionFacts:
    connector_id: int
    connector_name: str
    server_name: str
    url: str
    state: str
    state_reason: str
    status: str
    last_error: str
    oauth: bool
    policy: Policy
    tools: ToolHandout | None = None  # None: no governance facts (today's shape)


@dataclass(frozen=True)
class Server:
    """A connection that goes into the configuration, with its token if it has one."""

    name: str
    url: str
    policy: Policy
    tools: ToolHandout | None = None
    # The member's access token: in the configuration it is built for, never in a repr.
    token: str | None = field(default=None, repr=False)
    token_expires_at: datetime | None = None


# Names


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:_NAME_MAX].rstrip("-")


def server_names(connectors: Iterable[tuple[int, str]]) -> dict[int, str]:
    """{connector id: name} for every connector of an organization, given (id, display name).

    The name is the slug of the display name. When several connectors share a slug the oldest
    (lowest id) keeps it and the others get their id as a suffix, so a name changes only when
    an owner renames or removes a connector, never because of which ones a member connected
    or asked for."""
    names: dict[int, str] = {}
    taken: set[str] = set()
    for connector_id, display_name in sorted(connectors):
        base = _slug(display_name) or "connector"
        name, attempt = base, 0
        while name in taken:
            attempt += 1
            suffix = f"-{connector_id}" + (f"-{attempt}" if attempt > 1 else "")
            name = base[: _NAME_MAX - len(suffix)].rstrip("-") + suffix
        names[connector_id] = name
        taken.add(name)
    return names


# What is left out


def left_out(facts: ConnectionFacts, *, through_gateway: bool = False) -> Leftout | None:
    """Why this connection cannot go into a Messages API request, or None if it can."""
    name = facts.connector_name

    def leftout(code: str, message: str) -> Leftout:
        return Leftout(code, message, facts.connector_id, name)

    if facts.state == Connection.State.SUSPENDED:
        reason = facts.state_reason or "A plan change suspended it."
        return leftout("suspended", f"{name} is suspended: {reason}")
    if facts.state == Connection.State.NEEDS_AUTHORIZATION:
        reason = facts.state_reason or "Authorize it on My connectors."
        return leftout("needs_authorization", f"{name} needs your authorization: {reason}")
    if facts.state != Connection.State.ENABLED:
        return leftout("not_connected", f"You have not connected {name}; connect it first.")
    # Through the gateway the API reaches orgconnectors, and orgconnectors the server.
    if not through_gateway and not facts.url.lower().startswith("https://"):
        return leftout(
            "not_https",
            f"{name} is not served over https, and the Messages API only reaches public https "
            "servers; ask an owner to register its https address.",
        )
    if facts.status in Connector.FAILING_STATUSES:
        status = Connector.Status(facts.status).label.lower()
        detail = f" ({facts.last_error})" if facts.last_error else ""
        return leftout(
            "unhealthy",
            f"{name} is {status}{detail}; it is left out until its health checks pass again.",
        )
    if facts.tools is not None and facts.tools.held_back:
        return Leftout(
            "tools_held",
            f"{name} is left out: the organization reviews a new connector's tools before "
            "members get them, and no owner has approved its tools yet.",
            facts.connector_id,
            name,
            tools=(),
        )
    return None


# The approved listing


def tool_param(definition) -> dict:
    """A recorded MCP definition as a Messages API tool: name, description, input_schema as
    approved (the schema verbatim; a definition without one takes any object)."""
    param = {"name": definition["name"]}
    if definition.get("description"):
        param["description"] = definition["description"]
    param["input_schema"] = definition.get("inputSchema") or {"type": "object"}
    return param


def tool_handout(
    reviews: list[ToolReview], *, listing_version: int, governance: Governance
) -> ToolHandout:
    """What members get of a connector's tools, from their reviews (connectors/tool_review.py)."""
    if listing_version == 0:
        return ToolHandout.unlisted(review_first=governance.review_new_connectors)
    enabled = [review for review in reviews if review.enabled]
    return ToolHandout(
        listed=True,
        pinned=PinnedTools(tool_param(review.approved) for review in enabled),
        allowlist=tuple(r.name for r in enabled if r.review == tool_review.APPROVED),
        held=tuple((r.name, r.review) for r in reviews if r.held and r.allowed),
        pinned_older=tuple(r.name for r in enabled if r.pinned_older),
        hold_changed=governance.hold_changed,
    )


def _quoted(names) -> str:
    return ", ".join(f"“{name}”" for name in names)


_HELD_WHY = {
    tool_review.NEW: "new",
    tool_review.REMOVED: "removed from the server",
    tool_review.CHANGED: "changed, and the organization holds changed tools",
}


def tool_warnings(
    handout: ToolHandout, beta: str, connector_id: int, connector_name: str
) -> list[Leftout]:
    """What the member's app should know about a connector's tools under `beta`."""
    name = connector_name
    if not handout.listed:
        return [
            Leftout(
                "tools_not_listed",
                f"{name}'s tools are not listed yet: no approved listing exists, so the Messages "
                "API takes them from the live server, with the organization's tool policy applied.",
                connector_id,
                name,
            )
        ]
    held = list(handout.held)
    if beta == BETA_2025_11_20:
        held += [(tool, "changed, and this beta cannot pin") for tool in handout.pinned_older]
    warnings = []
    if held:
        reasons = ", ".join(f"“{tool}” ({_HELD_WHY.get(why, why)})" for tool, why in sorted(held))
        warnings.append(
            Leftout(
                "tools_held",
                f"{name}: {len(held)} tool{'s' if len(held) != 1 else ''} left out until an "
                f"owner reviews {'them' if len(held) != 1 else 'it'}: {reasons}.",
                connector_id,
                name,
                tools=tuple(sorted(tool for tool, _why in held)),
            )
        )
    if beta == BETA_2026_09_15 and handout.pinned_older:
        warnings.append(
            Leftout(
                "tools_pinned",
                f"{name}: {_quoted(handout.pinned_older)} changed on the server since an owner "
                "approved them; Claude gets the approved definitions until an owner reviews "
                "the change.",
                connector_id,
                name,
                tools=handout.pinned_older,
            )
        )
    return warnings


def live_descriptions_notice() -> Leftout:
    return Leftout(
        "tools_unpinned",
        f"With {BETA_2025_11_20} the Messages API takes each tool's description and schema from "
        "the live server, not as an owner approved them; only the approved, allowed tools are "
        f"enabled. Ask with beta {BETA_2026_09_15} to have the approved definitions pinned.",
    )


# The configuration


def toolset(server_name: str, policy: Policy) -> dict:
    """The `mcp_toolset` for one server: its tool policy as an allowlist or a denylist."""
    entry: dict = {"type": "mcp_toolset", "mcp_server_name": server_name}
    if policy.default_enabled:
        blocked = sorted(name for name, enabled in policy.overrides.items() if not enabled)
        if blocked:
            entry["configs"] = {name: {"enabled": False} for name in blocked}
        return entry
    allowed = sorted(name for name, enabled in policy.overrides.items() if enabled)
    entry["default_config"] = {"enabled": False}
    if allowed:
        entry["configs"] = {name: {"enabled": True} for name in allowed}
    return entry


def pinned_toolset(server_name: str, policy: Policy, tools: PinnedTools) -> dict:
    """2026-09-15: the approved definitions members get, pinned, with the policy's default and
    its decisions about those tools (every pinned tool is one the policy allows)."""
    entry: dict = {"type": "mcp_toolset", "mcp_server_name": server_name, "tools": tools}
    if not policy.default_enabled:
        entry["default_config"] = {"enabled": False}
        if tools:
            entry["configs"] = {tool["name"]: {"enabled": True} for tool in tools}
    return entry


def allowlist_toolset(server_name: str, names: tuple[str, ...]) -> dict:
    """2025-11-20: only the named tools enabled, so a tool the server adds is never enabled."""
    entry: dict = {
        "type": "mcp_toolset",
        "mcp_server_name": server_name,
        "default_config": {"enabled": False},
    }
    if names:
        entry["configs"] = {name: {"enabled": True} for name in names}
    return entry


def server_toolset(server: Server, beta: str) -> dict:
    handout = server.tools
    if handout is None or not handout.listed:
        return toolset(server.name, server.policy)
    if beta == BETA_2026_09_15:
        return pinned_toolset(server.name, server.policy, handout.pinned)
    return allowlist_toolset(server.name, handout.allowlist)


def mcp_server(server: Server) -> dict:
    entry = {"type": "url", "url": server.url, "name": server.name}
    if server.token:
        entry["authorization_token"] = server.token
    return entry


def no_tools_allowed(
    server: Server, connector_id: int, connector_name: str, beta: str = DEFAULT_BETA
) -> Leftout | None:
    """Said (not left out) when the policy blocks every tool: the server is there, but idle."""
    policy, handout = server.policy, server.tools
    if handout is not None and handout.listed:
        enabled = handout.pinned if beta == BETA_2026_09_15 else handout.allowlist
        if enabled or handout.held or handout.pinned_older:
            return None  # tools to use, or the tool warnings say why there are none
    elif policy.default_enabled or any(policy.overrides.values()):
        return None
    return Leftout(
        "no_tools_allowed",
        f"The organization's policy blocks every tool of {connector_name}, so Claude cannot "
        "call any of them; ask an owner to allow the tools you need.",
        connector_id,
        connector_name,
    )


def configuration(servers: list[Server], warnings: list[Leftout], beta: str = DEFAULT_BETA) -> dict:
    """The answer: headers, `mcp_servers`, `tools`, the earliest token expiry, warnings."""
    expiries = [s.token_expires_at for s in servers if s.token and s.token_expires_at]
    return {
        "headers": headers(beta),
        "mcp_servers": [mcp_server(server) for server in servers],
        "tools": [server_toolset(server, beta) for server in servers],
        "expires_at": min(expiries) if expiries else None,
        "warnings": [warning.as_json() for warning in warnings],
    }


def configuration_json(config: dict) -> str:
    """The answer as the API writes it, with each pinned listing's JSON spliced in as written
    once: encoding 50 definitions per server at every answer cost more than everything else
    the endpoint does (bench/messages_api_config.py)."""
    toolsets = []
    for entry in config["tools"]:
        pinned = entry.get("tools")
        if isinstance(pinned, PinnedTools):
            rest = _dumps({key: value for key, value in entry.items() if key != "tools"})
            toolsets.append(f'{rest[:-1]}, "tools": {pinned.json}}}')
        else:
            toolsets.append(_dumps(entry))
    rest = _dumps({key: value for key, value in config.items() if key != "tools"})
    return f'{rest[:-1]}, "tools": [{", ".join(toolsets)}]}}'
