"""The kill switch: owners pause a connector for everyone, or end one member's gateway session
for a while. The gateway reads both with each member's access (gateway/access.py), so new calls
are refused and calls in flight end with an error saying why within
ORGCONNECTORS_GATEWAY_CACHE_SECONDS."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connector, GatewayHold
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.models import Membership, Organization


def paused_reason(connector: Connector) -> str:
    return (
        f"An owner of your organization paused {connector.name}: its calls are refused until "
        "it is resumed."
    )


def connector_pause(*, connector: Connector, actor: Actor, paused: bool) -> Connector:
    """Pause (or resume) the connector for every member; audited."""
    with transaction.atomic():
        connector = Connector.objects.select_for_update().get(pk=connector.pk)
        if bool(connector.paused_at) == paused:
            return connector
        connector.paused_at = timezone.now() if paused else None
        connector.save(update_fields=["paused_at", "updated_at"])
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="connector.paused" if paused else "connector.resumed",
            target=connector,
        )
    return connector


def gateway_session_end(
    *,
    organization: Organization,
    membership: Membership,
    connector: Connector | None,
    actor: Actor,
) -> GatewayHold:
    """End a member's session (on one connector, or on the organization endpoint: all): their
    calls are refused for ORGCONNECTORS_GATEWAY_SESSION_HOLD_SECONDS; audited."""
    seconds = settings.ORGCONNECTORS_GATEWAY_SESSION_HOLD_SECONDS
    with transaction.atomic():
        hold = GatewayHold.objects.create(
            organization=organization,
            membership=membership,
            connector=connector,
            until=timezone.now() + timedelta(seconds=seconds),
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="gateway.session_ended",
            target=hold,
            changes={"hold_seconds": seconds},
        )
    return hold


def hold_reason(*, membership_id: int, connector_id: int) -> str:
    """Why the member's calls on the connector are held, or "" (one indexed query)."""
    hold = (
        GatewayHold.objects.filter(membership_id=membership_id, until__gt=timezone.now())
        .filter(Q(connector_id=connector_id) | Q(connector__isnull=True))
        .order_by("-until")
        .first()
    )
    if hold is None:
        return ""
    until = timezone.localtime(hold.until).strftime("%H:%M:%S %Z")
    return (
        f"An owner of your organization ended your session; your calls are refused until {until}."
    )
