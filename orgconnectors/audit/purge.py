"""Removing the oldest part of an organization's audit chain and usage events: the only deletes
the append-only guard lets through. How long each organization keeps them is decided above,
in reports/retention.py; this module knows only a cutoff.
"""

from datetime import datetime
from itertools import takewhile

from django.db import transaction

from orgconnectors.audit.append_only import purge_permitted
from orgconnectors.audit.chain import locked_head
from orgconnectors.audit.models import AuditEvent, ToolCallBody, UsageDay, UsageEvent


def chain_purge_batch(*, organization_id: int, cutoff: datetime, batch_size: int) -> int:
    """Remove the chain's oldest events, up to the first one still within the retention."""
    with transaction.atomic():
        # Sealers wait meanwhile (writers do not); the chain head records where the remaining
        # chain starts. Only sealed events are purged, oldest first in chain order.
        head = locked_head(organization_id)
        sealed = AuditEvent.objects.filter(organization_id=organization_id, seq__isnull=False)
        oldest = sealed.order_by("seq").values_list("seq", "created_at", "hash", "id")
        rows = list(oldest[:batch_size])
        due = list(takewhile(lambda row: row[1] < cutoff, rows))
        if not due:
            return 0
        last_seq, _created_at, last_hash, last_id = due[-1]
        with purge_permitted():
            sealed.filter(seq__lte=last_seq).delete()
        head.purged_through_id, head.purged_through_hash = last_id, last_hash
        head.save(update_fields=["purged_through_id", "purged_through_hash"])
    return len(due)


def _purge_batch(model, *, organization_id: int, cutoff: datetime, batch_size: int) -> int:
    ids = list(
        model.objects.filter(organization_id=organization_id, created_at__lt=cutoff)
        .order_by()
        .values_list("id", flat=True)[:batch_size]
    )
    if ids:
        model.objects.filter(pk__in=ids).delete()
    return len(ids)


def usage_purge_batch(*, organization_id: int, cutoff: datetime, batch_size: int) -> int:
    return _purge_batch(
        UsageEvent, organization_id=organization_id, cutoff=cutoff, batch_size=batch_size
    )


def tool_call_bodies_purge_batch(*, organization_id: int, cutoff: datetime, batch_size: int) -> int:
    """Kept tool-call bodies go with the usage events of the same age."""
    return _purge_batch(
        ToolCallBody, organization_id=organization_id, cutoff=cutoff, batch_size=batch_size
    )


def usage_days_purge(*, organization_id: int, cutoff: datetime) -> int:
    removed, _ = UsageDay.objects.filter(
        organization_id=organization_id, day__lt=cutoff.date()
    ).delete()
    return removed
