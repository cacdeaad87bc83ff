"""The email owners get when a connector goes down or comes back."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone

from orgconnectors.connectors.models import Connector
from orgconnectors.core.text import one_line
from orgconnectors.health.transitions import DOWN
from orgconnectors.organizations.selectors import owner_emails


def _status_words(status: str) -> str:
    return Connector.Status(status).label if status in Connector.Status.values else status


def _message(connector: Connector, before: str, after: str) -> tuple[str, str]:
    link = settings.ORGCONNECTORS_BASE_URL + reverse(
        "connector_detail",
        kwargs={"slug": connector.organization.slug, "connector_id": connector.pk},
    )
    when = timezone.localtime(connector.last_checked_at or timezone.now())
    if after == DOWN:
        subject = f"{connector.name} is down"
        since = timezone.localtime(connector.down_since or when)
        lines = [
            f"{connector.name} ({connector.url}) in {connector.organization.name} has failed "
            f"{connector.consecutive_failures} checks in a row and is down since "
            f"{since:%Y-%m-%d %H:%M %Z}.",
            "",
            f"Last error: {connector.last_error or 'none recorded'}.",
            "",
            "Members cannot use it until it answers again. orgconnectors keeps checking and "
            "will tell you when it is back.",
        ]
    else:
        subject = f"{connector.name} is back: {_status_words(after)}"
        lines = [
            f"{connector.name} ({connector.url}) in {connector.organization.name} answered "
            f"again at {when:%Y-%m-%d %H:%M %Z}: {_status_words(after)}.",
        ]
    lines += ["", f"Details: {link}"]
    return one_line(subject), "\n".join(lines) + "\n"


def health_owners_notify(*, connector_id: int, before: str, after: str) -> int:
    """Email every owner of the connector's organization; returns how many were sent."""
    connector = Connector.objects.select_related("organization").filter(pk=connector_id).first()
    if connector is None:
        return 0
    recipients = owner_emails(organization_id=connector.organization_id)
    if not recipients:
        return 0
    subject, body = _message(connector, before, after)
    # One message each: owners need not see each other's addresses.
    messages = [EmailMessage(subject, body, to=[email]) for email in recipients]
    return get_connection().send_messages(messages) or 0
