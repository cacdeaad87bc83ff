"""Owners ask the operator for another plan; the operator applies (or declines) the request.

Plans and limits are what the deployment sells or grants, so they are never the owners' to set:
a request is recorded, audited and emailed to the operators, who apply it through
organization_change_plan like any other plan change.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.models import Organization, Plan, PlanChangeRequest
from orgconnectors.organizations.plan_change import (
    PlanChangePreview,
    organization_change_plan,
    plan_change_preview,
)
from orgconnectors.outbox.enqueue import enqueue

logger = logging.getLogger(__name__)

Status = PlanChangeRequest.Status
MESSAGE_LIMIT = PlanChangeRequest._meta.get_field("message").max_length

PLANS_BELONG_TO_THE_OPERATOR = (
    "Plans and limits are set by the operator of this deployment. Ask for a change on the "
    "organization's Plan page, or with POST /api/v1/orgs/{org}/plan-requests."
)


def _one_line(text: str) -> str:
    # Names end up in an email subject, where a line break is refused.
    return " ".join(text.split())


def plan_change_request_create(
    *,
    organization: Organization,
    plan: Plan,
    actor: Actor,
    connection_limit: int | None = None,
    message: str = "",
) -> PlanChangeRequest:
    """Record an owner's request for another plan, audit it and email the operators."""
    message = (message or "").strip()
    if len(message) > MESSAGE_LIMIT:
        raise OrganizationError(
            f"Keep the message under {MESSAGE_LIMIT} characters.", field="message"
        )
    # Refuses a limit the plan does not take, as a change would.
    preview = plan_change_preview(
        organization=organization, plan=plan, limit_override=connection_limit
    )
    unchanged = preview.new_limit == organization.max_enabled_connections
    if plan.pk == organization.plan_id and unchanged:
        raise OrganizationError(
            f"{organization.name} is already on {plan.name} with {preview.new_limit} "
            "connection(s) per member; choose another plan or limit.",
            field="plan",
        )
    with transaction.atomic():
        # The newest request is the one the operator answers.
        PlanChangeRequest.objects.filter(organization=organization, status=Status.PENDING).update(
            status=Status.REPLACED, decided_at=timezone.now()
        )
        request = PlanChangeRequest.objects.create(
            organization=organization,
            plan=plan,
            connection_limit=connection_limit,
            message=message,
            requested_by=actor.user,
            requested_by_email=actor.display if actor.user is not None else "",
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="plan_change.requested",
            target=request,
            changes={
                "plan": {"before": organization.plan.code, "after": plan.code},
                "limit": {
                    "before": organization.max_enabled_connections,
                    "after": preview.new_limit,
                },
            },
        )
        enqueue("organizations.plan_request_notify", kwargs={"request_id": request.pk})
    return request


def _locked_waiting(request: PlanChangeRequest, done: str) -> PlanChangeRequest:
    """The request, locked, if it still waits for the operator; else a sentence saying why it
    cannot be `done` (another operator decided it meanwhile, or a newer request replaced it)."""
    request = (
        PlanChangeRequest.objects.select_for_update()
        .select_related("organization", "plan")
        .get(pk=request.pk)
    )
    if request.status != Status.PENDING:
        raise OrganizationError(
            f"This request is {request.get_status_display().lower()}; only a waiting request "
            f"can be {done}."
        )
    return request


def plan_change_request_apply(*, request: PlanChangeRequest, actor: Actor) -> PlanChangePreview:
    """The operator grants the request: the plan changes as it would from the admin."""
    with transaction.atomic():
        request = _locked_waiting(request, "applied")
        result = organization_change_plan(
            organization=request.organization,
            plan=request.plan,
            limit_override=request.connection_limit,
            actor=actor,
        )
        request.status, request.decided_at = Status.APPLIED, timezone.now()
        request.decided_by = actor.display
        request.save(update_fields=["status", "decided_at", "decided_by"])
    return result


def plan_change_request_decline(*, request: PlanChangeRequest, actor: Actor) -> None:
    with transaction.atomic():
        request = _locked_waiting(request, "declined")
        request.status, request.decided_at = Status.DECLINED, timezone.now()
        request.decided_by = actor.display
        request.save(update_fields=["status", "decided_at", "decided_by"])
        audit_record(
            organization=request.organization,
            actor=actor,
            action="plan_change.declined",
            target=request,
        )


def operator_recipients() -> list[str]:
    return list(settings.ORGCONNECTORS_OPERATOR_EMAILS) or [
        email for _name, email in settings.ADMINS
    ]


def plan_request_notify(*, request_id: int) -> int:
    """Email the operators about a waiting request; how many messages were sent."""
    request = (
        PlanChangeRequest.objects.select_related("organization__plan", "plan")
        .filter(pk=request_id, status=Status.PENDING)
        .first()
    )
    if request is None:
        return 0
    recipients = operator_recipients()
    if not recipients:
        logger.warning(
            "plan change request %s waits in the admin: no ORGCONNECTORS_OPERATOR_EMAILS or "
            "ADMINS to tell",
            request.pk,
        )
        return 0
    organization = request.organization
    preview = plan_change_preview(
        organization=organization, plan=request.plan, limit_override=request.connection_limit
    )
    link = settings.ORGCONNECTORS_BASE_URL + reverse(
        "admin:organizations_planchangerequest_change", args=[request.pk]
    )
    lines = [
        f"{request.requested_by_email or 'An owner'} asks to move {_one_line(organization.name)} "
        f"({organization.slug}) from {organization.plan.name} "
        f"({organization.max_enabled_connections} connection(s) per member) to "
        f"{request.plan.name} ({preview.new_limit} per member).",
        "",
        f"Connections that would be suspended now: {preview.suspended_count}.",
    ]
    if request.message:
        lines += ["", "Their message:", request.message]
    lines += ["", f"Apply or decline it in the admin: {link}"]
    subject = f"Plan change requested for {_one_line(organization.name)[:80]}"
    message = EmailMessage(subject, "\n".join(lines) + "\n", to=recipients)
    return get_connection().send_messages([message]) or 0
