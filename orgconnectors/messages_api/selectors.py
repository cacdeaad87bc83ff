"""Reads for the Messages API configuration, starting from the member: two queries however many
connectors the organization has and the member holds.

One query reads every connector of the organization (their names make the names in
`mcp_servers` unique) joined to the member's own connection and its OAuth credential, with each
connector's approved listing version and the digest of its server's listing; a second reads the
tool policies of the connectors the member holds. Both are compiled to SQL once per process
(compiled.py): this endpoint is asked before each request an app sends. What the approved
listings hand out is kept in memory by tool_handouts.py, which reads the listings themselves
(one more query) only when a connector's listing, policy or settings changed.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import FilteredRelation, Q

from orgconnectors.connectors.models import Connection, Connector, ToolOverride
from orgconnectors.connectors.tool_review import Governance
from orgconnectors.messages_api import builder
from orgconnectors.messages_api.compiled import CompiledQuery
from orgconnectors.messages_api.gateway_handout import gateway_urls
from orgconnectors.messages_api.tool_handouts import ListingState, tool_handouts
from orgconnectors.organizations.models import Membership

# Connections a member asked for and still holds (suspended ones too, to say why they are out).
LISTED = (*Connection.IN_USE, Connection.State.SUSPENDED)
MASK = "<hidden: choose Reveal tokens>"

_FIELDS = (
    "id",
    "name",
    "url",
    "auth",
    "status",
    "last_error",
    "tool_default",
    "transport",
    "detected_transport",
    "tool_listing_version",
    "discovered_digest",
    "mine__id",
    "mine__state",
    "mine__state_reason",
    "mine__oauth_credential__id",
    "mine__oauth_credential__access_token_encrypted",
    "mine__oauth_credential__expires_at",
)


@dataclass(frozen=True)
class Held:
    """One of the member's connections, as the configuration needs it."""

    facts: builder.ConnectionFacts
    connection_id: int
    has_credential: bool
    access_token_encrypted: str = field(default="", repr=False)
    expires_at: datetime | None = None


@dataclass(frozen=True)
class MemberConnectors:
    names: dict[int, str]  # every connector of the organization: its name in mcp_servers
    held: list[Held]  # the member's connections in use or suspended, by connector name
    transports: dict[int, tuple[str, str]]  # (transport, detected transport) by connector id


_CONNECTORS = CompiledQuery(
    lambda organization_id, membership_id: (
        Connector.objects.filter(organization_id=organization_id)
        .annotate(
            mine=FilteredRelation(
                "connections", condition=Q(connections__membership_id=membership_id)
            )
        )
        .order_by("name", "id")
        .values_list(*_FIELDS)
    ),
    "organization_id",
    "membership_id",
)
_POLICIES = CompiledQuery(
    lambda membership_id: ToolOverride.objects.filter(
        connector__connections__membership_id=membership_id,
        connector__connections__state__in=LISTED,
    ).values_list("connector_id", "tool_name", "enabled"),
    "membership_id",
)


def _policies(membership: Membership) -> dict[int, dict[str, bool]]:
    policies: dict[int, dict[str, bool]] = {}
    for connector_id, tool_name, enabled in _POLICIES.rows(membership_id=membership.pk):
        policies.setdefault(connector_id, {})[tool_name] = enabled
    return policies


def _policy(row: dict, policies: dict[int, dict[str, bool]]) -> builder.Policy:
    return builder.Policy(
        default_enabled=row["tool_default"] == Connector.ToolDefault.ALLOW,
        overrides=policies.get(row["id"], {}),
    )


def member_connectors(*, membership: Membership) -> MemberConnectors:
    """The member's connections with what the configuration needs of each: facts, policy, what
    the approved tool listing hands out (the organization's settings from `membership`'s
    organization, already read)."""
    rows = [
        dict(zip(_FIELDS, row, strict=True))
        for row in _CONNECTORS.rows(
            organization_id=membership.organization_id, membership_id=membership.pk
        )
    ]
    names = builder.server_names((row["id"], row["name"]) for row in rows)
    listed = [row for row in rows if row["mine__state"] in LISTED]
    policies = _policies(membership) if listed else {}
    handouts = tool_handouts(
        [
            ListingState(
                connector_id=row["id"],
                listing_version=row["tool_listing_version"],
                discovered_digest=row["discovered_digest"],
                policy=_policy(row, policies),
            )
            for row in listed
        ],
        governance=Governance.of(membership.organization),
    )
    held = [
        Held(
            facts=builder.ConnectionFacts(
                connector_id=row["id"],
                connector_name=row["name"],
                server_name=names[row["id"]],
                url=row["url"],
                state=row["mine__state"],
                state_reason=row["mine__state_reason"],
                status=row["status"],
                last_error=row["last_error"],
                oauth=row["auth"] == Connector.Auth.OAUTH,
                policy=_policy(row, policies),
                tools=handouts[row["id"]],
            ),
            connection_id=row["mine__id"],
            has_credential=row["mine__oauth_credential__id"] is not None,
            access_token_encrypted=row["mine__oauth_credential__access_token_encrypted"] or "",
            expires_at=row["mine__oauth_credential__expires_at"],
        )
        for row in listed
    ]
    transports = {row["id"]: (row["transport"], row["detected_transport"]) for row in listed}
    return MemberConnectors(names, held, transports)


@dataclass(frozen=True)
class ClaudeCodeLine:
    connector_name: str
    transport: str  # "http" or "sse", as `claude mcp add --transport` spells them
    command: str


def _claude_transport(transport: str, detected: str) -> str:
    if transport == Connector.Transport.AUTO:
        transport = detected or Connector.Transport.STREAMABLE_HTTP
    return "sse" if transport == Connector.Transport.SSE else "http"


def claude_code_commands(*, membership: Membership) -> list[ClaudeCodeLine]:
    """`claude mcp add` for each connection the member has connected. Claude Code runs on the
    member's machine, so unlike the Messages API it also reaches servers without https.
    Through the gateway, each line names the connector's gateway endpoint (Streamable HTTP)."""
    found = member_connectors(membership=membership)
    enabled = [h for h in found.held if h.facts.state == Connection.State.ENABLED]
    gateway = gateway_urls(
        membership=membership, connector_ids=[h.facts.connector_id for h in enabled]
    )
    lines = []
    for held in enabled:
        facts = held.facts
        if gateway is not None and facts.connector_id in gateway:
            transport, url = "http", gateway[facts.connector_id]
        else:
            transport = _claude_transport(*found.transports[facts.connector_id])
            url = facts.url
        command = f"claude mcp add --transport {transport} {facts.server_name} {url}"
        lines.append(ClaudeCodeLine(facts.connector_name, transport, command))
    return lines
