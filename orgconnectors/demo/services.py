"""The one write the demo needs beyond the ordinary services: moving a demo connector that an
older seed_demo registered at http:// to the https:// address its server now answers at.

Owners cannot change a connector's URL (members' authorizations are bound to it), so this is
only for the demo's own connectors, from seed_demo.
"""

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.redaction import field_changes
from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.core.actor import Actor
from orgconnectors.oauth.models import OAuthClient, OAuthCredential

HEALTH_FIELDS_RESET = {
    "status": Connector.Status.UNCHECKED,
    "consecutive_failures": 0,
    "last_error": "",
    "detected_transport": "",
    "down_since": None,
}


def demo_connector_move_to_https(*, connector: Connector, url: str, actor: Actor) -> Connector:
    """Point the demo connector at `url`, check it at the next sweep, and ask members who had
    authorized it over http to authorize again (their tokens named the old address)."""
    with transaction.atomic():
        connector = Connector.objects.select_for_update().get(pk=connector.pk)
        old_url = connector.url
        if old_url == url:
            return connector
        connector.url = url
        for name, value in HEALTH_FIELDS_RESET.items():
            setattr(connector, name, value)
        connector.next_check_at = timezone.now()
        connector.save()
        authorized = Connection.objects.select_for_update().filter(
            connector=connector, oauth_credential__isnull=False
        )
        authorized_ids = list(authorized.values_list("pk", flat=True))
        # Nothing to revoke: the demo's authorization server forgets every token when it stops,
        # and it has stopped (it now answers over https).
        OAuthCredential.objects.filter(connection_id__in=authorized_ids).delete()
        OAuthClient.objects.filter(connector=connector).delete()
        Connection.objects.filter(pk__in=authorized_ids, state=Connection.State.ENABLED).update(
            state=Connection.State.NEEDS_AUTHORIZATION,
            state_reason="The demo's servers moved to https; authorize again.",
            updated_at=timezone.now(),
        )
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="connector.updated",
            target=connector,
            changes=field_changes({"url": old_url}, {"url": url}),
        )
    return connector
