"""Moving an organization to another plan, with a preview of who loses which connection."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.context import Actor
from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.models import Membership, Organization, Plan


@dataclass
class MemberImpact:
    membership: Membership
    kept: list[Connection] = field(default_factory=list)
    suspended: list[Connection] = field(default_factory=list)


@dataclass
class PlanChangePreview:
    organization: Organization
    plan: Plan
    new_limit: int
    old_limit: int
    impacts: list[MemberImpact]

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


def plan_change_preview(
    *, organization: Organization, plan: Plan, limit_override: int | None = None
) -> PlanChangePreview:
    new_limit = _new_limit(plan, limit_override)
    connections = (
        Connection.objects.filter(
            membership__organization=organization, state__in=Connection.IN_USE
        )
        .select_related("connector", "membership__user")
        # Most recently enabled first: those are the ones a member keeps.
        .order_by("membership_id", "-enabled_at", "-id")
    )
    impacts: dict[int, MemberImpact] = {}
    for connection in connections:
        impact = impacts.setdefault(
            connection.membership_id, MemberImpact(membership=connection.membership)
        )
        if len(impact.kept) < new_limit:
            impact.kept.append(connection)
        else:
            impact.suspended.append(connection)
    return PlanChangePreview(
        organization=organization,
        plan=plan,
        new_limit=new_limit,
        old_limit=organization.max_enabled_connections,
        impacts=sorted(impacts.values(), key=lambda i: i.membership.user.email),
    )


def organization_change_plan(
    *, organization: Organization, plan: Plan, actor: Actor, limit_override: int | None = None
) -> PlanChangePreview:
    """Apply a plan change; returns what it did (the same shape as the preview)."""
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
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
        }
        suspended_ids = [c.pk for impact in result.impacts for c in impact.suspended]
        if suspended_ids:
            Connection.objects.filter(pk__in=suspended_ids).update(
                state=Connection.State.SUSPENDED,
                state_reason=(
                    f"Suspended when the organization moved to the {plan.name} plan, which allows "
                    f"{result.new_limit} connection{'s' if result.new_limit != 1 else ''} at a "
                    "time. Disconnect another to use this one again."
                ),
                updated_at=timezone.now(),
            )
        organization.plan = plan
        organization.connection_limit_override = (
            limit_override if plan.allows_limit_override else None
        )
        organization.save(update_fields=["plan", "connection_limit_override"])
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.plan_changed",
            target_type="organization",
            target_id=organization.pk,
            target_label=organization.name,
            changes={
                "plan": {"before": before["plan"], "after": plan.code},
                "limit": {"before": before["limit"], "after": result.new_limit},
                "suspended_connections": {"before": None, "after": suspended_ids},
            },
        )
    return result
