"""What goes into a Messages API request, from a member's connections, the tool policies and
their tokens. Pure: no database, no network, no clock; the services gather the facts.

The field names and rules are the Messages API's MCP connector (beta `mcp-client-2025-11-20`):
one `{"type": "url"}` entry in `mcp_servers` per server, with a unique name, and exactly one
`mcp_toolset` in `tools` naming it. Tool policies become allowlists or denylists of `configs`.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from orgconnectors.connectors.models import Connection, Connector

BETA = "mcp-client-2025-11-20"
DEPRECATED_BETA = "mcp-client-2025-04-04"
ANTHROPIC_VERSION = "2023-06-01"
HEADERS = {"anthropic-beta": BETA, "anthropic-version": ANTHROPIC_VERSION}

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

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "connector_id": self.connector_id,
            "connector_name": self.connector_name,
            "message": self.message,
        }


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


@dataclass(frozen=True)
class Server:
    """A connection that goes into the configuration, with its token if it has one."""

    name: str
    url: str
    policy: Policy
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


def left_out(facts: ConnectionFacts) -> Leftout | None:
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
    if not facts.url.lower().startswith("https://"):
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
    return None


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


def mcp_server(server: Server) -> dict:
    entry = {"type": "url", "url": server.url, "name": server.name}
    if server.token:
        entry["authorization_token"] = server.token
    return entry


def no_tools_allowed(server: Server, connector_id: int, connector_name: str) -> Leftout | None:
    """Said (not left out) when the policy blocks every tool: the server is there, but idle."""
    policy = server.policy
    if policy.default_enabled or any(policy.overrides.values()):
        return None
    return Leftout(
        "no_tools_allowed",
        f"The organization's policy blocks every tool of {connector_name}, so Claude cannot "
        "call any of them; ask an owner to allow the tools you need.",
        connector_id,
        connector_name,
    )


def configuration(servers: list[Server], warnings: list[Leftout]) -> dict:
    """The answer: headers, `mcp_servers`, `tools`, the earliest token expiry, warnings."""
    expiries = [s.token_expires_at for s in servers if s.token and s.token_expires_at]
    return {
        "headers": dict(HEADERS),
        "mcp_servers": [mcp_server(server) for server in servers],
        "tools": [toolset(server.name, server.policy) for server in servers],
        "expires_at": min(expiries) if expiries else None,
        "warnings": [warning.as_json() for warning in warnings],
    }
