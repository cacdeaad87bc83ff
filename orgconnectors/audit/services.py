import json

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.chain import chain_append
from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor

Outcome = AuditEvent.Outcome
_IP = AuditEvent._meta.get_field("ip")


def _outcome_of(action: str) -> str:
    # The naming convention of actions already says it: oauth.refresh_failed,
    # oauth.step_up_refused. A caller can say it explicitly instead.
    if action.endswith("_failed"):
        return Outcome.FAILURE
    if action.endswith(("_refused", "_denied")):
        return Outcome.REFUSED
    return Outcome.SUCCESS


def _subjects(target_type: str, target_id: str) -> tuple[int | None, int | None]:
    """(connector id, member's user id) the target stands for, so the trail can be filtered by
    connector and by member however the event's target was named."""
    if not target_id.isdigit():
        return None, None
    pk = int(target_id)
    if target_type == "connector":
        return pk, None
    if target_type == "connection":
        found = (
            apps.get_model("connectors", "Connection")
            .objects.filter(pk=pk)
            .values_list("connector_id", "membership__user_id")
            .first()
        )
        return found or (None, None)
    if target_type == "membership":
        user_id = (
            apps.get_model("organizations", "Membership")
            .objects.filter(pk=pk)
            .values_list("user_id", flat=True)
            .first()
        )
        return None, user_id
    if target_type == "api_token":
        user_id = (
            apps.get_model("api", "ApiToken")
            .objects.filter(pk=pk)
            .values_list("user_id", flat=True)
            .first()
        )
        return None, user_id
    return None, None


def audit_record(
    *,
    organization,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object = "",
    target_label: str = "",
    changes: dict | None = None,
    outcome: str | None = None,
    connector_id: int | None = None,
    member_user_id: int | None = None,
) -> AuditEvent:
    """Write one audit event at the end of the organization's hash chain; callers are services
    already inside their own transaction, which holds the chain until it commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    target_id = str(target_id or "")
    derived_connector, derived_member = _subjects(target_type, target_id)
    event = AuditEvent(
        organization=organization,
        actor=actor.user,
        actor_label=actor.display,
        action=action,
        outcome=outcome or _outcome_of(action),
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:300],
        connector_ref=connector_id if connector_id is not None else derived_connector,
        member_ref=member_user_id if member_user_id is not None else derived_member,
        # As the database will give them back, so the hash computed now verifies later.
        ip=_IP.get_prep_value(actor.ip) or None,
        user_agent=actor.user_agent,
        changes=json.loads(json.dumps(changes or {})),
        created_at=timezone.now(),
    )
    return chain_append(event)
