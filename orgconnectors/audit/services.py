from django.db import transaction

from orgconnectors.audit.context import Actor
from orgconnectors.audit.models import AuditEvent


def audit_record(
    *,
    organization,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object = "",
    target_label: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    """Write one audit event; callers are services already inside their own transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor.user,
        actor_label=actor.display,
        action=action,
        target_type=target_type,
        target_id=str(target_id or ""),
        target_label=target_label[:300],
        ip=actor.ip,
        user_agent=actor.user_agent,
        changes=changes or {},
    )
