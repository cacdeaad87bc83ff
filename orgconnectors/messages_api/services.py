"""The Messages API configuration handed to a member's app, and the organization's retention
setting that goes with it.

Tokens are decrypted only for the answer itself; one that expires within a minute is refreshed
first through the OAuth vault's single-flight refresh, shared with the beat sweep, with no
transaction open while the authorization server is asked.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.models import UsageEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record, usage_record_many
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import NotAllowed, ServiceError
from orgconnectors.encryption import DecryptionFailed
from orgconnectors.messages_api import builder, gateway_handout
from orgconnectors.messages_api.selectors import MASK, Held, member_connectors
from orgconnectors.oauth.errors import NeedsAuthorization, TokenUnavailable
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh_on_demand import credential_fresh_access_token
from orgconnectors.oauth.vault import access_token_of
from orgconnectors.organizations.models import Membership, Organization

# A token handed out is good for at least this long, or it is refreshed first.
MIN_VALID_SECONDS = 60


class UnknownConnectors(ServiceError):
    code = "unknown_connectors"


class UnknownBeta(ServiceError):
    code = "unknown_beta"


def beta_chosen(beta: str | None) -> str:
    """The beta asked for (blank: the default), or UnknownBeta naming the two there are."""
    beta = (beta or "").strip() or builder.DEFAULT_BETA
    if beta not in builder.BETAS:
        shown = beta if len(beta) <= 60 else beta[:60] + "…"
        raise UnknownBeta(
            f"“{shown}” is not a beta this configuration is written for: choose "
            f"{builder.BETA_2026_09_15} (the default: the approved tool definitions pinned) or "
            f"{builder.BETA_2025_11_20} (an allowlist of the approved tools, descriptions from "
            "the live servers).",
            field="beta",
        )
    return beta


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    expires_at: datetime | None


@dataclass(frozen=True)
class Assembled:
    config: dict
    # What went into mcp_servers, for the usage event and the audit.
    server_names: list[str]
    connector_ids: list[int]


TokenSource = Callable[[Held], Token]


def _as_id(item: str) -> int | None:
    # isdigit() takes "²", which int() refuses; an id has at most 19 digits.
    return int(item) if item.isascii() and item.isdigit() and len(item) <= 19 else None


def _wanted_ids(requested: list[str] | None, names: dict[int, str], org: Organization):
    """Connector ids named by `requested` (names from mcp_servers, or ids); None for all."""
    items = list(dict.fromkeys(item.strip() for item in requested or [] if item.strip()))
    if not items:
        return None
    by_name = {name: connector_id for connector_id, name in names.items()}
    wanted, unknown = [], []
    for item in items:
        if item in by_name:
            wanted.append(by_name[item])
        elif _as_id(item) in names:
            wanted.append(_as_id(item))
        else:
            unknown.append(item)
    if unknown:
        listed = ", ".join(f"“{item}”" for item in unknown)
        raise UnknownConnectors(
            f"{org.name} has no connector called {listed}. Use the names from mcp_servers "
            "(or connector ids), separated by commas.",
            field="connectors",
        )
    return wanted


def _needs_authorization(facts: builder.ConnectionFacts, reason: str) -> builder.Leftout:
    return builder.Leftout(
        "needs_authorization",
        f"{facts.connector_name} needs your authorization: {reason}",
        facts.connector_id,
        facts.connector_name,
    )


def _token_or_leftout(held: Held, token_source: TokenSource) -> Token | builder.Leftout:
    facts = held.facts
    if not held.has_credential:
        return _needs_authorization(facts, "authorize it on My connectors.")
    try:
        return token_source(held)
    except NeedsAuthorization as needed:
        return _needs_authorization(facts, needed.message)
    except DecryptionFailed:
        return _needs_authorization(
            facts, "your stored authorization can no longer be read; authorize it again."
        )
    except TokenUnavailable as unavailable:
        return builder.Leftout(
            "token_unavailable",
            f"{facts.connector_name}'s token could not be refreshed: {unavailable.message}",
            facts.connector_id,
            facts.connector_name,
        )


def _assemble(
    *,
    membership: Membership,
    requested: list[str] | None,
    token_source: TokenSource,
    beta: str = builder.DEFAULT_BETA,
) -> Assembled:
    organization = membership.organization
    found = member_connectors(membership=membership)
    names = found.names
    wanted = _wanted_ids(requested, names, organization)
    held_list = found.held
    if wanted is not None:
        held_list = [h for h in held_list if h.facts.connector_id in wanted]
    warnings: list[builder.Leftout] = []
    if organization.requires_zero_data_retention:
        warnings.append(
            builder.Leftout(
                "zero_data_retention",
                f"{organization.name} requires zero data retention, which MCP connector traffic "
                "is not covered by: tool definitions and tool results follow standard retention.",
            )
        )
    held_ids = {h.facts.connector_id for h in held_list}
    for connector_id in wanted or []:
        if connector_id not in held_ids:
            warnings.append(
                builder.Leftout(
                    "not_connected",
                    f"You have not connected “{names[connector_id]}”; connect it on My "
                    "connectors to use it.",
                    connector_id,
                )
            )
    servers: list[builder.Server] = []
    included: list[int] = []
    gateway = organization.member_apps_reach == Organization.MemberAppsReach.GATEWAY
    for held in held_list:
        facts = held.facts
        leftout = builder.left_out(facts, through_gateway=gateway)
        token = None
        if leftout is None and facts.oauth:
            token = _token_or_leftout(held, token_source)
            if isinstance(token, builder.Leftout):
                leftout, token = token, None
        if leftout is not None:
            warnings.append(leftout)
            continue
        server = builder.Server(
            name=facts.server_name,
            url=facts.url,
            policy=facts.policy,
            tools=facts.tools,
            token=token.value if token else None,
            token_expires_at=token.expires_at if token else None,
        )
        if facts.tools is not None:
            warnings += builder.tool_warnings(
                facts.tools, beta, facts.connector_id, facts.connector_name
            )
        idle = builder.no_tools_allowed(server, facts.connector_id, facts.connector_name, beta)
        if idle is not None:
            warnings.append(idle)
        servers.append(server)
        included.append(facts.connector_id)
    if beta == builder.BETA_2025_11_20 and any(s.tools and s.tools.listed for s in servers):
        warnings.append(builder.live_descriptions_notice())
    config = builder.configuration(servers, warnings, beta)
    config = gateway_handout.through_gateway(
        membership=membership,
        config=config,
        connector_ids=included,
        mint=token_source is not _masked_token,
    )
    return Assembled(config, [s.name for s in servers], included)


def _fresh_token(held: Held) -> Token:
    """The stored token when it lasts another minute, otherwise a refreshed one."""
    deadline = timezone.now() + timedelta(seconds=MIN_VALID_SECONDS)
    if held.expires_at is None or held.expires_at > deadline:
        # Through the vault, the one place tokens are decrypted (from the row already read).
        stored = OAuthCredential(access_token_encrypted=held.access_token_encrypted)
        return Token(access_token_of(stored), held.expires_at)
    value = credential_fresh_access_token(
        connection=held.connection_id, min_valid_seconds=MIN_VALID_SECONDS
    )
    expires_at = (
        OAuthCredential.objects.filter(connection_id=held.connection_id)
        .values_list("expires_at", flat=True)
        .first()
    )
    return Token(value, expires_at)


def _masked_token(held: Held) -> Token:
    return Token(MASK, held.expires_at)


def _require_connector_user(membership: Membership) -> None:
    if not membership.can_connect:
        raise NotAllowed(
            "Auditors hold no connections, so there is no configuration to hand out; owners and "
            "members get their own."
        )


def _record_usage(*, membership, actor: Actor, api_token, assembled: Assembled, source: str):
    """Each configuration handed out is a usage event: one per connector in it (or one naming
    none), with the member, the API token and the client's address."""
    common = {
        "organization": membership.organization,
        "kind": UsageEvent.Kind.CONFIGURATION,
        "user": membership.user_id,
        "api_token": api_token,
        "ip": actor.ip,
        "details": {
            "source": source,
            "servers": assembled.server_names,
            "left_out": [w["code"] for w in assembled.config["warnings"] if w["connector_id"]],
        },
    }
    if assembled.connector_ids:
        usage_record_many(connectors=assembled.connector_ids, **common)
    else:
        usage_record(**common)


def messages_api_config(
    *,
    membership: Membership,
    actor: Actor,
    api_token=None,
    connectors: list[str] | None = None,
    beta: str | None = None,
    source: str = "api",
) -> dict:
    """What the member's app puts in a Messages API request, ready to send under `beta` (blank:
    the default): `connectors` (names or ids) narrows it; tokens expiring within a minute are
    refreshed first."""
    _require_connector_user(membership)
    beta = beta_chosen(beta)
    assembled = _assemble(
        membership=membership, requested=connectors, token_source=_fresh_token, beta=beta
    )
    _record_usage(
        membership=membership, actor=actor, api_token=api_token, assembled=assembled, source=source
    )
    return assembled.config


def messages_api_config_preview(*, membership: Membership, beta: str | None = None) -> dict:
    """The same configuration with every token masked; reads only (no refresh, no usage)."""
    _require_connector_user(membership)
    return _assemble(
        membership=membership, requested=None, token_source=_masked_token, beta=beta_chosen(beta)
    ).config


def messages_api_tokens_reveal(
    *, membership: Membership, actor: Actor, beta: str | None = None
) -> dict:
    """The configuration with its tokens, for the member's own eyes on the dashboard; audited
    (which connectors, never the tokens)."""
    _require_connector_user(membership)
    assembled = _assemble(
        membership=membership, requested=None, token_source=_fresh_token, beta=beta_chosen(beta)
    )
    revealed = [s["name"] for s in assembled.config["mcp_servers"] if "authorization_token" in s]
    with transaction.atomic():
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="messages_api.token_revealed",
            target=membership,
            changes={"connectors": {"before": None, "after": revealed}},
        )
    _record_usage(
        membership=membership, actor=actor, api_token=None, assembled=assembled, source="dashboard"
    )
    return assembled.config
