"""The email approvers get when a call waits for approval: once per call (the row remembers it
was sent), with the tool, the member, the client, the arguments (redacted of secrets when the
call was written) and a link to the Approvals page."""

import json

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orgconnectors.connectors.models import CallApproval
from orgconnectors.core.text import one_line
from orgconnectors.organizations.selectors import approver_emails

ARGUMENTS_SHOWN = 2000  # characters of the redacted arguments in the email


def _message(approval: CallApproval) -> tuple[str, str]:
    organization = approval.organization
    link = settings.ORGCONNECTORS_BASE_URL + reverse(
        "approval_list", kwargs={"slug": organization.slug}
    )
    arguments = json.dumps(approval.arguments, indent=2, sort_keys=True, ensure_ascii=False)
    if len(arguments) > ARGUMENTS_SHOWN:
        arguments = arguments[:ARGUMENTS_SHOWN] + "\n… (the rest is on the Approvals page)"
    seconds = max(round((approval.expires_at - timezone.now()).total_seconds()), 0)
    subject = f"Approve or deny: {approval.connector.name} · {approval.tool_name}"
    lines = [
        f"{approval.membership.user.email} called {approval.tool_name} on "
        f"{approval.connector.name} in {organization.name}"
        f"{' through ' + approval.client if approval.client else ''}; the call waits for an "
        f"approver and is refused without an answer in about {seconds} seconds.",
        "",
        "Arguments (secrets redacted):",
        arguments,
        "",
        "Allow or deny it on the Approvals page:",
        link,
    ]
    return one_line(subject), "\n".join(lines) + "\n"


def call_approval_approvers_notify(*, approval_id: int) -> int:
    """Email every approver about a call still waiting and not told yet; how many emails."""
    with transaction.atomic():
        approval = (
            CallApproval.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("organization", "connector", "membership__user")
            .filter(
                pk=approval_id,
                notified_at__isnull=True,
                state=CallApproval.State.PENDING,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if approval is None:
            return 0
        approval.notified_at = timezone.now()
        approval.save(update_fields=["notified_at"])
        recipients = approver_emails(organization_id=approval.organization_id)
        if not recipients:
            return 0
        subject, body = _message(approval)
        # Sent inside the transaction: if sending fails, the row stays untold and the task's
        # retry sends again; a crash after sending may send twice, never zero times.
        messages = [EmailMessage(subject, body, to=[email]) for email in recipients]
        return get_connection().send_messages(messages) or 0
