"""Connectors: what owners register, change and remove; every write to them goes through here.

Members' connections to them are in connections.py."""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from orgconnectors.audit.redaction import field_changes
from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.directory import directory_entry
from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import Connection, Connector, ToolOverride
from orgconnectors.connectors.plan_limits import custom_connector_limit_check
from orgconnectors.connectors.signals import connections_ending
from orgconnectors.connectors.urls_canonical import canonical_url
from orgconnectors.core.actor import Actor
from orgconnectors.core.text import NO_CONTROL_CHARACTERS, has_control_characters
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.egress.guard import EgressRefused, check_url_on_save
from orgconnectors.encryption import encrypt
from orgconnectors.organizations.models import Organization

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,128}$")
_AUDITED_FIELDS = (
    "name",
    "url",
    "transport",
    "auth",
    "oauth_client_id",
    "oauth_client_secret_encrypted",
    "tool_default",
    "directory_slug",
)
_SECRET_FIELDS = frozenset({"oauth_client_secret_encrypted"})


def _snapshot(connector: Connector) -> dict:
    return {name: getattr(connector, name) for name in _AUDITED_FIELDS}


def _audit_changes(before: dict, after: dict) -> dict:
    changes = field_changes(before, after, secret_fields=_SECRET_FIELDS)
    if "oauth_client_secret_encrypted" in changes:
        changes["oauth_client_secret"] = changes.pop("oauth_client_secret_encrypted")
    return changes


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ConnectorError("Enter the server's URL, starting with https://.", field="url")
    try:
        # Resolved too, for a clear refusal now; every connection is checked again when made.
        check_url_on_save(url)
    except EgressRefused as refused:
        raise ConnectorError(f"This URL cannot be used: {refused}.", field="url") from None
    url = canonical_url(url)
    limit = Connector._meta.get_field("url").max_length
    if len(url) > limit:
        raise ConnectorError(f"Keep the URL to at most {limit} characters.", field="url")
    return url


def _check_name(name: str) -> None:
    # A connector's name is the subject of health emails: a line break there is a header.
    if has_control_characters(name):
        raise ConnectorError(NO_CONTROL_CHARACTERS, field="name")


def _canonical_or_none(url: str) -> str | None:
    """The canonical form of `url`, or None when it is not a URL at all (a port that is not a
    number, a broken IPv6 literal): either way it differs from every stored URL."""
    try:
        return canonical_url(url)
    except ValueError:
        return None


def _clean_client_id(client_id: str | None) -> str:
    client_id = (client_id or "").strip()
    limit = Connector._meta.get_field("oauth_client_id").max_length
    if len(client_id) > limit:
        raise ConnectorError(
            f"Keep the OAuth client ID to at most {limit} characters.", field="oauth_client_id"
        )
    return client_id


def _check_choice(value: str, choices, field: str) -> str:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ConnectorError(f"{value!r} is not valid here; choose one of: {allowed}.", field=field)
    return value


@retry_on_conflict
def connector_register(
    *,
    organization: Organization,
    actor: Actor,
    name: str,
    url: str,
    transport: str | None = None,
    auth: str | None = None,
    oauth_client_id: str = "",
    oauth_client_secret: str = "",
    tool_default: str = Connector.ToolDefault.ALLOW,
    directory_slug: str = "",
    confirm_no_zdr: bool = False,
) -> Connector:
    """Register a connector; transport and auth left as None come from the directory entry, if
    any, otherwise automatic transport and no authentication. An organization that requires zero
    data retention registers one only with `confirm_no_zdr` (its traffic is not covered)."""
    entry = None
    if directory_slug:
        entry = directory_entry(directory_slug)
        if entry is None:
            raise ConnectorError(
                f"{directory_slug!r} is not in the directory.", field="directory_slug"
            )
    name = (name or (entry.name if entry else "")).strip()
    if not name:
        raise ConnectorError("Give the connector a name members will recognise.", field="name")
    if len(name) > 100:
        raise ConnectorError("Keep the name under 100 characters.", field="name")
    _check_name(name)
    url = _clean_url(url or (entry.url if entry else ""))
    transport = transport or (entry.transport if entry else Connector.Transport.AUTO)
    auth = auth or (entry.auth if entry else Connector.Auth.NONE)
    _check_choice(transport, Connector.Transport, "transport")
    _check_choice(auth, Connector.Auth, "auth")
    _check_choice(tool_default, Connector.ToolDefault, "tool_default")
    oauth_client_id = _clean_client_id(oauth_client_id)
    if (oauth_client_id or oauth_client_secret) and auth != Connector.Auth.OAUTH:
        raise ConnectorError(
            "OAuth client settings only apply when authentication is OAuth.", field="auth"
        )
    if oauth_client_secret and not oauth_client_id:
        raise ConnectorError(
            "A client secret needs its client ID; enter both or neither.", field="oauth_client_id"
        )
    with transaction.atomic():
        # Serialises registrations per organization so the custom-connector cap holds. NO KEY
        # UPDATE: rows that merely reference the organization (connections, checks, audit
        # events) are still written meanwhile instead of queueing behind a registration.
        organization = (
            Organization.objects.select_for_update(no_key=True)
            .select_related("plan")
            .get(pk=organization.pk)
        )
        custom_connector_limit_check(organization=organization)
        _check_retention_confirmed(organization, confirm_no_zdr)
        existing = Connector.objects.filter(organization=organization, url=url).first()
        if existing is not None:
            raise ConnectorError(
                f"{url} is already registered in this organization as “{existing.name}”.",
                field="url",
            )
        connector = Connector(
            organization=organization,
            name=name,
            url=url,
            transport=transport,
            auth=auth,
            oauth_client_id=oauth_client_id,
            oauth_client_secret_encrypted=encrypt(oauth_client_secret),
            tool_default=tool_default,
            directory_slug=directory_slug,
            created_by=actor.user,
        )
        try:
            with transaction.atomic():
                connector.save()
        except IntegrityError:
            raise ConnectorError(
                f"{url} is already registered in this organization.", field="url"
            ) from None
        audit_record(
            organization=organization,
            actor=actor,
            action="connector.registered",
            target=connector,
            changes={
                **_audit_changes({}, _snapshot(connector)),
                **_retention_confirmation(organization),
            },
        )
    return connector


def _check_retention_confirmed(organization: Organization, confirmed: bool) -> None:
    if organization.requires_zero_data_retention and not confirmed:
        raise ConnectorError(
            f"{organization.name} requires zero data retention, and MCP connector traffic is not "
            "covered by it: tool definitions and results follow standard retention. Confirm that "
            "you know this to add the connector.",
            field="confirm_no_zdr",
        )


def _retention_confirmation(organization: Organization) -> dict:
    if not organization.requires_zero_data_retention:
        return {}
    return {"confirmed_not_zero_data_retention": {"before": None, "after": True}}


_UNSET = object()


@retry_on_conflict
def connector_update(
    *,
    connector: Connector,
    actor: Actor,
    name=_UNSET,
    url=_UNSET,
    transport=_UNSET,
    auth=_UNSET,
    oauth_client_id=_UNSET,
    oauth_client_secret=_UNSET,
    tool_default=_UNSET,
) -> Connector:
    """Change what was given; an omitted argument keeps its value, an empty secret keeps the
    stored one (secrets are never shown, so forms cannot send them back)."""
    with transaction.atomic():
        connector = Connector.objects.select_for_update().get(pk=connector.pk)
        before = _snapshot(connector)
        if name is not _UNSET:
            name = (name or "").strip()
            if not name:
                raise ConnectorError("Give the connector a name.", field="name")
            if len(name) > 100:
                raise ConnectorError("Keep the name under 100 characters.", field="name")
            _check_name(name)
            connector.name = name
        if url is not _UNSET and _canonical_or_none(url or "") != connector.url:
            raise ConnectorError(
                "A connector's URL cannot be changed, because members' authorizations are bound "
                "to it. Remove this connector and add the new URL.",
                field="url",
            )
        if transport is not _UNSET:
            connector.transport = _check_choice(transport, Connector.Transport, "transport")
        if auth is not _UNSET:
            connector.auth = _check_choice(auth, Connector.Auth, "auth")
        if tool_default is not _UNSET:
            connector.tool_default = _check_choice(
                tool_default, Connector.ToolDefault, "tool_default"
            )
        if oauth_client_id is not _UNSET:
            connector.oauth_client_id = _clean_client_id(oauth_client_id)
            if not connector.oauth_client_id:
                connector.oauth_client_secret_encrypted = ""
        if oauth_client_secret is not _UNSET and oauth_client_secret:
            if not connector.oauth_client_id:
                raise ConnectorError(
                    "A client secret needs its client ID.", field="oauth_client_id"
                )
            connector.oauth_client_secret_encrypted = encrypt(oauth_client_secret)
        if connector.auth != Connector.Auth.OAUTH and connector.oauth_client_id:
            raise ConnectorError(
                "OAuth client settings only apply when authentication is OAuth; clear them first.",
                field="auth",
            )
        after = _snapshot(connector)
        if after == before:
            return connector
        connector.save()
        auth_changed_to_oauth = (
            before["auth"] != after["auth"] and connector.auth == Connector.Auth.OAUTH
        )
        if auth_changed_to_oauth:
            # Members connected without OAuth must now authorize.
            Connection.objects.filter(connector=connector, state=Connection.State.ENABLED).update(
                state=Connection.State.NEEDS_AUTHORIZATION,
                state_reason="The owner turned on OAuth for this connector.",
                updated_at=timezone.now(),
            )
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="connector.updated",
            target=connector,
            changes=_audit_changes(before, after),
        )
    return connector


@retry_on_conflict
def connector_remove(*, connector: Connector, actor: Actor) -> None:
    with transaction.atomic():
        connector = Connector.objects.select_for_update().get(pk=connector.pk)
        in_use = connector.connections.filter(state__in=Connection.IN_USE).count()
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="connector.removed",
            target=connector,
            changes={
                **_audit_changes(_snapshot(connector), {}),
                "members_connected": {"before": in_use, "after": 0},
            },
        )
        # Locked before the credentials they hold, as everywhere; the members' tokens are
        # revoked at the server after commit (by the receivers), then forgotten.
        connections = list(
            Connection.objects.select_for_update(of=("self",))
            .select_related("membership__user", "connector")
            .filter(connector=connector)
            .order_by("pk")
        )
        connections_ending.send(sender=Connection, connections=connections)
        connector.delete()


@retry_on_conflict
def connector_set_tool_policy(
    *, connector: Connector, actor: Actor, default: str, overrides: dict[str, bool]
) -> Connector:
    """Replace the whole policy: the default and the complete set of per-tool overrides."""
    _check_choice(default, Connector.ToolDefault, "tool_default")
    for tool_name in overrides:
        if not _TOOL_NAME.match(tool_name or ""):
            raise ConnectorError(
                f"{tool_name!r} is not a valid tool name (1–128 letters, digits, _ . - /).",
                field="tools",
            )
    with transaction.atomic():
        connector = Connector.objects.select_for_update().get(pk=connector.pk)
        old_overrides = dict(connector.tool_overrides.values_list("tool_name", "enabled"))
        before = {"tool_default": connector.tool_default, "overrides": old_overrides}
        after = {"tool_default": default, "overrides": dict(sorted(overrides.items()))}
        if before == after:
            return connector
        connector.tool_default = default
        connector.save(update_fields=["tool_default", "updated_at"])
        connector.tool_overrides.all().delete()
        ToolOverride.objects.bulk_create(
            ToolOverride(connector=connector, tool_name=name, enabled=enabled)
            for name, enabled in sorted(overrides.items())
        )
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="connector.tool_policy_changed",
            target=connector,
            changes=field_changes(before, after),
        )
    return connector
