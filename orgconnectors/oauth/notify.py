"""The email a member gets when a connection needs their authorization again."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse

from orgconnectors.connectors.models import Connection
from orgconnectors.core.text import one_line


def reauthorization_notify(*, connection_id: int) -> int:
    """Email the member, if the connection still needs them; how many messages were sent."""
    connection = (
        Connection.objects.select_related(
            "membership__user", "membership__organization", "connector"
        )
        .filter(pk=connection_id, state=Connection.State.NEEDS_AUTHORIZATION)
        .first()
    )
    if connection is None:
        return 0
    organization = connection.membership.organization
    connector = connection.connector
    link = settings.ORGCONNECTORS_BASE_URL + reverse(
        "my_connectors", kwargs={"slug": organization.slug}
    )
    body = "\n".join(
        [
            f"Your connection to {connector.name} in {organization.name} needs you to authorize "
            "it again.",
            "",
            connection.state_reason or "The server no longer accepts the earlier authorization.",
            "",
            f"Open My connectors and choose Authorize next to {connector.name}: {link}",
            "",
            "Until then, apps using your connectors cannot reach it.",
        ]
    )
    message = EmailMessage(
        one_line(f"Authorize {connector.name} again"),
        body + "\n",
        to=[connection.membership.user.email],
    )
    return get_connection().send_messages([message]) or 0
