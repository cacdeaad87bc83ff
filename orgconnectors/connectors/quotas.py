"""Quotas: how many tool calls each member may make through the gateway, per minute and per
day, on the whole organization, on one connector, or on one tool of a connector.

Owners set them (`quota_set`, `quota_remove`, audited); the gateway counts and enforces them
(gateway/quotas.py). Every limit applies to each member separately. Without a row of its own
the organization has its plan's default (PLAN_DEFAULTS); an organization row replaces it (with
both periods empty, it lifts the default).
"""

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.http import Http404

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import Connector, Quota
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.models import Organization

# Per member, the whole organization: (calls per minute, calls per day); None: no limit.
PLAN_DEFAULTS: dict[str, tuple[int | None, int | None]] = {
    "free": (20, 500),
    "pro": (60, 5_000),
    "max": (120, 20_000),
    "team": (120, 20_000),
    "enterprise": (None, None),
}
MAX_LIMIT = 10_000_000
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_./-]{1,128}$")

ORGANIZATION, CONNECTOR, TOOL = "organization", "connector", "tool"


@dataclass(frozen=True)
class QuotaRule:
    """One limit as the gateway applies it."""

    level: str  # organization, connector or tool
    label: str  # "the organization", "Issues", "the tool 'search' of Issues"
    connector_id: int | None
    tool: str
    per_minute: int | None
    per_day: int | None


def _check_limit(value: int | None, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
        raise ConnectorError(
            f"A limit is a whole number of calls from 1 to {MAX_LIMIT}, or empty for none.",
            field=field,
        )
    return value


def quota_set(
    *,
    organization: Organization,
    actor: Actor,
    connector: Connector | None = None,
    tool_name: str = "",
    per_minute: int | None,
    per_day: int | None,
) -> Quota:
    """Set (create or replace) the limits of one scope; audited as quota.set."""
    per_minute = _check_limit(per_minute, "per_minute")
    per_day = _check_limit(per_day, "per_day")
    tool_name = (tool_name or "").strip()
    if tool_name and connector is None:
        raise ConnectorError("A tool's limit needs its connector.", field="tool_name")
    if tool_name and not _TOOL_NAME.match(tool_name):
        raise ConnectorError(
            f"{tool_name!r} is not a valid tool name (1–128 letters, digits, _ . - /).",
            field="tool_name",
        )
    if connector is not None and connector.organization_id != organization.pk:
        raise ConnectorError("No such connector in this organization.", field="connector")
    with transaction.atomic():
        quota, created = Quota.objects.select_for_update().get_or_create(
            organization=organization,
            connector=connector,
            tool_name=tool_name,
            defaults={"per_minute": per_minute, "per_day": per_day},
        )
        before = None if created else {"per_minute": quota.per_minute, "per_day": quota.per_day}
        after = {"per_minute": per_minute, "per_day": per_day}
        if before == after:
            return quota
        quota.per_minute, quota.per_day = per_minute, per_day
        quota.save()
        audit_record(
            organization=organization,
            actor=actor,
            action="quota.set",
            target=quota,
            changes={"before": before, "after": after},
        )
    return quota


def quota_remove(*, quota: Quota, actor: Actor) -> None:
    """Remove one scope's limits (the organization's: its plan's default applies again)."""
    with transaction.atomic():
        target = quota.audit_target()
        organization = quota.organization
        before = {"per_minute": quota.per_minute, "per_day": quota.per_day}
        quota.delete()
        audit_record(
            organization=organization,
            actor=actor,
            action="quota.removed",
            target=target,
            changes={"before": before},
        )


def quotas_of(*, organization: Organization):
    return Quota.objects.filter(organization=organization).select_related("connector")


def quota_get(*, organization: Organization, quota_id) -> Quota:
    """The organization's quota; a 404 for another organization's or none."""
    try:
        return quotas_of(organization=organization).get(pk=int(quota_id))
    except (Quota.DoesNotExist, ValueError, TypeError):
        raise Http404("No such quota") from None


def plan_default(organization: Organization) -> tuple[int | None, int | None]:
    return PLAN_DEFAULTS.get(organization.plan.code, (None, None))


def _rules(organization: Organization, connector: Connector | None, rows) -> tuple[QuotaRule, ...]:
    rules = []
    for row in sorted(rows, key=lambda r: (r.connector_id is None, not r.tool_name)):
        if row.per_minute is None and row.per_day is None:
            continue
        if row.connector_id is None:
            level, label = ORGANIZATION, "the organization"
        elif row.tool_name:
            level, label = TOOL, f"the tool {row.tool_name!r} of {connector.name}"
        else:
            level, label = CONNECTOR, connector.name
        rules.append(
            QuotaRule(level, label, row.connector_id, row.tool_name, row.per_minute, row.per_day)
        )
    if not any(row.connector_id is None for row in rows):
        per_minute, per_day = plan_default(organization)
        if per_minute is not None or per_day is not None:
            rules.append(QuotaRule(ORGANIZATION, "the organization", None, "", per_minute, per_day))
    return tuple(rules)


def quota_rules(
    *, organization: Organization, connector: Connector | None
) -> tuple[QuotaRule, ...]:
    """The limits a call to a tool of `connector` meets, the narrowest first (the tool's are
    kept for every tool; the gateway picks the one called); with no connector, the
    organization's only. One query."""
    scope = Q(connector__isnull=True)
    if connector is not None:
        scope |= Q(connector=connector)
    rows = list(Quota.objects.filter(organization=organization).filter(scope))
    return _rules(organization, connector, rows)


def quota_rules_of(
    *, organization: Organization, connectors: list[Connector]
) -> dict[int | None, tuple[QuotaRule, ...]]:
    """`quota_rules` for each of `connectors` (by id) and, under None, the organization's own;
    one query for them all (the pages that show usage)."""
    rows = list(Quota.objects.filter(organization=organization))
    general = [row for row in rows if row.connector_id is None]
    rules_of = {None: _rules(organization, None, general)}
    for connector in connectors:
        own = [row for row in rows if row.connector_id == connector.pk]
        rules_of[connector.pk] = _rules(organization, connector, general + own)
    return rules_of
