"""Moving an organization to another plan, with a preview of who loses which connection.

Only the operator moves an organization (the admin, `set_plan`, the operator API); owners see the
preview and ask for the change (plan_requests.py).

What a connection limit does to members' connections is said where the plan's limits live,
connectors/plan_limits.py: the connectors app sits above this one, so it registers those two
functions here when Django starts (`connection_limits_register`) instead of being imported.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.models import Membership, Organization, Plan, PlanChangeRequest


@dataclass
class MemberImpact:
    membership: Membership
    # The member's connections in use (the connectors app's rows), most recently enabled first.
    kept: list = field(default_factory=list)
    suspended: list = field(default_factory=list)


@dataclass(frozen=True)
class ConnectionLimits:
    # (organization=, limit=) -> who keeps and who loses which connection under that limit.
    impacts: Callable[..., list[MemberImpact]]
    # (connection_ids=, plan=, limit=) -> None: suspends them, every membership locked.
    suspend: Callable[..., None]


_connection_limits: ConnectionLimits | None = None


def connection_limits_register(limits: ConnectionLimits) -> None:
    """Called once by connectors/plan_limits.py, imported when the connectors app is ready."""
    global _connection_limits
    _connection_limits = limits


def _limits() -> ConnectionLimits:
    if _connection_limits is None:
        raise ImproperlyConfigured(
            "No connection limits are registered: orgconnectors.connectors must be in "
            "INSTALLED_APPS (its plan_limits module registers them when the app is ready)."
        )
    return _connection_limits


@dataclass
class PlanChangePreview:
    organization: Organization
    plan: Plan
    new_limit: int
    old_limit: int
    impacts: list[MemberImpact]
    old_retention: int = 0
    new_retention: int = 0
    # Until when events older than new_retention stay under the old retention (a shortening).
    retention_grace_until: datetime | None = None

    @property
    def affected(self) -> list[MemberImpact]:
        return [impact for impact in self.impacts if impact.suspended]

    @property
    def suspended_count(self) -> int:
        return sum(len(impact.suspended) for impact in self.impacts)


def _new_limit(plan: Plan, limit_override: int | None) -> int:
    if limit_override is not None:
        if not plan.allows_limit_override:
            raise OrganizationError(
                f"Only plans that allow an override (Enterprise) take a custom limit; "
                f"{plan.name} uses {plan.max_enabled_connections}.",
                field="limit",
            )
        if limit_override < 1:
            raise OrganizationError("The limit must be at least 1.", field="limit")
        return limit_override
    return plan.max_enabled_connections


def _new_retention(organization: Organization, plan: Plan) -> int:
    # An organization's own retention applies only on plans that take overrides, as in
    # Organization.audit_retention.
    if plan.allows_limit_override and organization.audit_retention_days is not None:
        return organization.audit_retention_days
    return plan.audit_retention_days


def _retention_grace_until(old_retention: int, new_retention: int, now: datetime):
    grace_days = settings.ORGCONNECTORS_RETENTION_GRACE_DAYS
    if new_retention >= old_retention or grace_days <= 0:
        return None
    return now + timedelta(days=grace_days)


def plan_change_preview(
    *, organization: Organization, plan: Plan, limit_override: int | None = None
) -> PlanChangePreview:
    new_limit = _new_limit(plan, limit_override)
    now = timezone.now()
    old_retention = organization.audit_retention_in_force(now)
    new_retention = _new_retention(organization, plan)
    impacts = _limits().impacts(organization=organization, limit=new_limit)
    return PlanChangePreview(
        organization=organization,
        plan=plan,
        new_limit=new_limit,
        old_limit=organization.max_enabled_connections,
        impacts=sorted(impacts, key=lambda i: i.membership.user.email),
        old_retention=old_retention,
        new_retention=new_retention,
        retention_grace_until=_retention_grace_until(old_retention, new_retention, now),
    )


@retry_on_conflict
def organization_change_plan(
    *, organization: Organization, plan: Plan, actor: Actor, limit_override: int | None = None
) -> PlanChangePreview:
    """Apply a plan change; returns what it did (the same shape as the preview)."""
    with transaction.atomic():
        # NO KEY UPDATE: rows that reference the organization are still inserted meanwhile.
        organization = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        # Locking every membership (in a fixed order) holds off concurrent enables, which lock
        # their membership first, so none slips past the new limit.
        list(
            Membership.objects.select_for_update()
            .filter(organization=organization)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        result = plan_change_preview(
            organization=organization, plan=plan, limit_override=limit_override
        )
        before = {
            "plan": organization.plan.code,
            "limit": organization.max_enabled_connections,
            "grace_until": organization.audit_retention_grace_until,
        }
        suspended_ids = [c.pk for impact in result.impacts for c in impact.suspended]
        _limits().suspend(connection_ids=suspended_ids, plan=plan, limit=result.new_limit)
        organization.plan = plan
        organization.connection_limit_override = (
            limit_override if plan.allows_limit_override else None
        )
        if result.retention_grace_until is not None:
            organization.audit_retention_grace_days = result.old_retention
            organization.audit_retention_grace_until = result.retention_grace_until
        elif result.new_retention >= (organization.audit_retention_grace_days or 0):
            # The new retention reaches as far back as the grace did: nothing left to hold.
            organization.audit_retention_grace_days = None
            organization.audit_retention_grace_until = None
        organization.save(
            update_fields=[
                "plan",
                "connection_limit_override",
                "audit_retention_grace_days",
                "audit_retention_grace_until",
            ]
        )
        # The owners' waiting request for exactly this is answered by it, whichever way the
        # operator made the change (admin, set_plan, operator API).
        PlanChangeRequest.objects.filter(
            organization=organization,
            status=PlanChangeRequest.Status.PENDING,
            plan=plan,
            connection_limit=organization.connection_limit_override,
        ).update(
            status=PlanChangeRequest.Status.APPLIED,
            decided_at=timezone.now(),
            decided_by=actor.display,
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.plan_changed",
            target=organization,
            changes={
                "plan": {"before": before["plan"], "after": plan.code},
                "limit": {"before": before["limit"], "after": result.new_limit},
                "suspended_connections": {"before": None, "after": suspended_ids},
                "audit_retention_days": {
                    "before": result.old_retention,
                    "after": result.new_retention,
                },
                "older_events_kept_until": {
                    "before": _iso(before["grace_until"]),
                    "after": _iso(organization.audit_retention_grace_until),
                },
            },
        )
    return result


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
