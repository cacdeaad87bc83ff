"""The email owners get when a health check finds a connector's tools changed from the approved
listing: once per change (the row remembers it was sent), with what changed and where to review."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orgconnectors.connectors.models import Connector, ToolChange
from orgconnectors.core.text import one_line
from orgconnectors.organizations.models import Organization
from orgconnectors.organizations.selectors import owner_emails

_WHAT = {
    ToolChange.Kind.NEW: "new tool, held until you approve it",
    ToolChange.Kind.REMOVED: "removed from the server",
}


def _line(change: ToolChange, governance: Organization) -> str:
    if change.kind != ToolChange.Kind.CHANGED:
        return f"- {change.tool_name}: {_WHAT[change.kind]}"
    fields = ", ".join(sorted(change.diff)) or "its definition"
    if governance.changed_tools == Organization.ChangedTools.HOLD:
        effect = "held until you review it"
    else:
        effect = "members keep the approved version until you review it"
    return f"- {change.tool_name}: changed ({fields}); {effect}"


def _message(connector: Connector, changes: list[ToolChange]) -> tuple[str, str]:
    organization = connector.organization
    link = settings.ORGCONNECTORS_BASE_URL + reverse(
        "connector_detail", kwargs={"slug": organization.slug, "connector_id": connector.pk}
    )
    count = len(changes)
    subject = f"{connector.name}: {count} tool change{'s' if count != 1 else ''} to review"
    lines = [
        f"A health check of {connector.name} ({connector.url}) in {organization.name} found its "
        "tools differ from the listing owners approved:",
        "",
        *(_line(change, organization) for change in changes),
        "",
        "A server that changes what its tools say can change what Claude does with them. Review "
        "old and new side by side, then approve or block each tool:",
        link,
    ]
    return one_line(subject), "\n".join(lines) + "\n"


def tool_changes_owners_notify(*, connector_id: int, change_ids: list[int]) -> int:
    """Email every owner about the changes not told yet; returns how many emails went out."""
    with transaction.atomic():
        changes = list(
            ToolChange.objects.select_for_update(skip_locked=True)
            .filter(
                connector_id=connector_id,
                pk__in=change_ids,
                notified_at__isnull=True,
                state=ToolChange.State.PENDING,
            )
            .order_by("tool_name")
        )
        if not changes:
            return 0
        ToolChange.objects.filter(pk__in=[c.pk for c in changes]).update(notified_at=timezone.now())
        connector = Connector.objects.select_related("organization").get(pk=connector_id)
        recipients = owner_emails(organization_id=connector.organization_id)
        if not recipients:
            return 0
        subject, body = _message(connector, changes)
        # Sent inside the transaction: if sending fails, the rows stay untold and the task's
        # retry sends again; a crash after sending may send twice, never zero times.
        messages = [EmailMessage(subject, body, to=[email]) for email in recipients]
        return get_connection().send_messages(messages) or 0
