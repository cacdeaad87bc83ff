import json

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.actions import audit_action
from orgconnectors.audit.chain import chain_append
from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import Audited

_IP = AuditEvent._meta.get_field("ip")


def audit_record(
    *,
    organization,
    actor: Actor,
    action: str,
    target: Audited,
    changes: dict | None = None,
) -> AuditEvent:
    """Write one audit event at the end of the organization's hash chain; callers are services
    already inside their own transaction, which holds the chain until it commits.

    `action` is a name registered in audit/actions.py (UnregisteredAuditAction otherwise), which
    also gives the event's outcome; `target` is the model instance the event is about, or an
    AuditTarget for what is not at hand."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    registered = audit_action(action)
    about = target.audit_target()
    event = AuditEvent(
        organization=organization,
        actor=actor.user,
        actor_label=actor.display,
        action=registered.name,
        outcome=registered.outcome,
        target_type=about.type,
        target_id=str(about.id or ""),
        target_label=about.label[:300],
        connector_ref=about.connector_id,
        member_ref=about.member_user_id,
        # As the database will give them back, so the hash computed now verifies later.
        ip=_IP.get_prep_value(actor.ip) or None,
        user_agent=actor.user_agent,
        changes=json.loads(json.dumps(changes or {})),
        created_at=timezone.now(),
    )
    return chain_append(event)
