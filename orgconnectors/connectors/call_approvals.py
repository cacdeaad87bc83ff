"""A human in the loop: owners mark a tool as needing approval (the third state beside allowed
and blocked); a call to it through the gateway waits while the organization's owners see it on
the Approvals page and allow or deny it; no answer within the organization's
`approval_timeout_seconds` (default 120 s) refuses it. Every request and decision is audited.
"""

from datetime import timedelta

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from orgconnectors.audit.body_redaction import redacted
from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import ApprovalRequirement, CallApproval, Connector
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.models import Membership, Organization

GATEWAY = Actor.system("gateway")
MAX_TIMEOUT_SECONDS = 280  # the Messages API gives up on a tool call after about 300 s


def approval_requirement_set(
    *, connector: Connector, tool_name: str, required: bool, actor: Actor
) -> None:
    with transaction.atomic():
        if required:
            _row, changed = ApprovalRequirement.objects.get_or_create(
                connector=connector, tool_name=tool_name
            )
        else:
            changed = bool(
                ApprovalRequirement.objects.filter(
                    connector=connector, tool_name=tool_name
                ).delete()[0]
            )
        if changed:
            audit_record(
                organization=connector.organization,
                actor=actor,
                action="connector.tool_approval_changed",
                target=connector,
                changes={"tool": tool_name, "needs_approval": required},
            )


def approval_timeout_set(*, organization: Organization, seconds: int, actor: Actor) -> None:
    if not 5 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise ConnectorError(
            f"The approval timeout is from 5 to {MAX_TIMEOUT_SECONDS} seconds.", field="seconds"
        )
    with transaction.atomic():
        before = organization.approval_timeout_seconds
        organization.approval_timeout_seconds = seconds
        organization.save(update_fields=["approval_timeout_seconds"])
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.approval_timeout_changed",
            target=organization,
            changes={"before": before, "after": seconds},
        )


def tools_needing_approval(connector: Connector) -> frozenset[str]:
    return frozenset(
        ApprovalRequirement.objects.filter(connector=connector).values_list("tool_name", flat=True)
    )


def call_approval_request(
    *,
    organization_id: int,
    connector_id: int,
    membership_id: int,
    tool_name: str,
    client: str,
    arguments,
) -> CallApproval:
    """A pending approval for one call (the gateway's), audited."""
    with transaction.atomic():
        organization = Organization.objects.get(pk=organization_id)
        approval = CallApproval.objects.create(
            organization=organization,
            connector_id=connector_id,
            membership=Membership.objects.select_related("user").get(pk=membership_id),
            tool_name=tool_name[:128],
            client=client[:100],
            arguments=redacted(arguments or {}),
            expires_at=timezone.now() + timedelta(seconds=organization.approval_timeout_seconds),
        )
        audit_record(
            organization=organization,
            actor=GATEWAY,
            action="tool_call.approval_requested",
            target=approval,
            changes={"tool": approval.tool_name, "client": approval.client},
        )
    return approval


def _close(approval_id: int, state: str, actor: Actor, action: str, user=None) -> CallApproval:
    with transaction.atomic():
        approval = (
            CallApproval.objects.select_for_update()
            .select_related("connector", "membership", "organization")
            .get(pk=approval_id)
        )
        if approval.state != CallApproval.State.PENDING:
            return approval
        approval.state = state
        approval.decided_at = timezone.now()
        approval.decided_by = user
        approval.save(update_fields=["state", "decided_at", "decided_by"])
        audit_record(
            organization=approval.organization,
            actor=actor,
            action=action,
            target=approval,
            changes={"tool": approval.tool_name, "state": state},
        )
    return approval


def call_approval_decide(*, approval: CallApproval, allow: bool, actor: Actor) -> CallApproval:
    """An approver's answer; a call already answered or timed out stays as it is."""
    if approval.expires_at <= timezone.now():
        return call_approval_expire(approval_id=approval.pk)
    state = CallApproval.State.ALLOWED if allow else CallApproval.State.DENIED
    action = "tool_call.approved" if allow else "tool_call.approval_denied"
    return _close(approval.pk, state, actor, action, user=actor.user)


def call_approval_expire(*, approval_id: int) -> CallApproval:
    return _close(approval_id, CallApproval.State.TIMED_OUT, GATEWAY, "tool_call.timeout_refused")


def call_approval_state(*, approval_id: int) -> str:
    return CallApproval.objects.filter(pk=approval_id).values_list("state", flat=True).first()


def pending_approvals(*, organization: Organization):
    return (
        CallApproval.objects.filter(
            organization=organization,
            state=CallApproval.State.PENDING,
            expires_at__gt=timezone.now(),
        )
        .select_related("connector", "membership__user")
        .order_by("created_at")
    )


def approval_get(*, organization: Organization, approval_id) -> CallApproval:
    try:
        return CallApproval.objects.select_related("connector").get(
            organization=organization, pk=int(approval_id)
        )
    except (CallApproval.DoesNotExist, ValueError, TypeError):
        raise Http404("No such call") from None
