"""How long audit and usage events are kept, and the nightly purge of what is older.

Each organization keeps them for its plan's audit_retention_days (Enterprise: its own value), or
for the longer retention of its former plan while the grace after a plan change lasts
(Organization.audit_retention_grace_until).
The purge removes the oldest part of each chain in batches, each batch a short transaction, and
records what it removed as an "audit.purged" event in the same chain.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import takewhile

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.append_only import purge_permitted
from orgconnectors.audit.chain import locked_head
from orgconnectors.audit.models import AuditEvent, UsageDay, UsageEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.models import Organization

logger = logging.getLogger(__name__)

PURGE_ACTOR = Actor.system("retention purge")
BATCH_SIZE = 5000


@dataclass(frozen=True)
class Purged:
    audit_events: int = 0
    usage_events: int = 0
    usage_days: int = 0

    def __add__(self, other: "Purged") -> "Purged":
        return Purged(
            self.audit_events + other.audit_events,
            self.usage_events + other.usage_events,
            self.usage_days + other.usage_days,
        )

    @property
    def anything(self) -> bool:
        return bool(self.audit_events or self.usage_events or self.usage_days)


def _purge_audit_batch(organization: Organization, cutoff: datetime, batch_size: int) -> int:
    """Remove the chain's oldest events, up to the first one still within the retention."""
    with transaction.atomic():
        # Sealers wait meanwhile (writers do not); the chain head records where the remaining
        # chain starts. Only sealed events are purged, oldest first in chain order.
        head = locked_head(organization.pk)
        sealed = AuditEvent.objects.filter(organization=organization, seq__isnull=False)
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


def _purge_usage_batch(organization: Organization, cutoff: datetime, batch_size: int) -> int:
    ids = list(
        UsageEvent.objects.filter(organization_id=organization.pk, created_at__lt=cutoff)
        .order_by()
        .values_list("id", flat=True)[:batch_size]
    )
    if ids:
        UsageEvent.objects.filter(pk__in=ids).delete()
    return len(ids)


def organization_purge(
    *, organization: Organization, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> Purged:
    """Remove the organization's audit and usage events older than its retention."""
    now = now or timezone.now()
    retention = organization.audit_retention_in_force(now)
    cutoff = now - timedelta(days=retention)
    audit_events = usage_events = 0
    if AuditEvent.objects.filter(organization=organization, created_at__lt=cutoff).exists():
        while removed := _purge_audit_batch(organization, cutoff, batch_size):
            audit_events += removed
            if removed < batch_size:
                break
    while removed := _purge_usage_batch(organization, cutoff, batch_size):
        usage_events += removed
    usage_days, _ = UsageDay.objects.filter(
        organization_id=organization.pk, day__lt=cutoff.date()
    ).delete()
    purged = Purged(audit_events, usage_events, usage_days)
    if purged.anything:
        with transaction.atomic():
            audit_record(
                organization=organization,
                actor=PURGE_ACTOR,
                action="audit.purged",
                target=organization,
                changes={
                    "retention_days": {"before": None, "after": retention},
                    "older_than": {"before": None, "after": cutoff.isoformat()},
                    "audit_events_removed": {"before": None, "after": audit_events},
                    "usage_events_removed": {"before": None, "after": usage_events},
                    "usage_days_removed": {"before": None, "after": usage_days},
                },
            )
    return purged


def audit_retention_purge(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> Purged:
    """The nightly purge over every organization; safe to run twice or to interrupt."""
    now = now or timezone.now()
    total = Purged()
    organizations = Organization.objects.select_related("plan").order_by("pk")
    for organization in organizations.iterator(chunk_size=500):
        total += organization_purge(organization=organization, now=now, batch_size=batch_size)
    logger.info(
        "retention purge: %d audit events, %d usage events, %d usage days removed",
        total.audit_events,
        total.usage_events,
        total.usage_days,
    )
    return total
