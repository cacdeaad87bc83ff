"""How long audit and usage events are kept, and the nightly purge of what is older.

Each organization keeps them for its plan's audit_retention_days (Enterprise: its own value), or
for the longer retention of its former plan while the grace after a plan change lasts
(Organization.audit_retention_grace_until).
The purge removes the oldest part of each chain in batches, each batch a short transaction
(audit/purge.py), and records what it removed as an "audit.purged" event in the same chain.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.audit.purge import (
    chain_purge_batch,
    tool_call_bodies_purge_batch,
    usage_days_purge,
    usage_purge_batch,
)
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


def organization_purge(
    *, organization: Organization, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> Purged:
    """Remove the organization's audit and usage events older than its retention."""
    now = now or timezone.now()
    retention = organization.audit_retention_in_force(now)
    cutoff = now - timedelta(days=retention)
    audit_events = usage_events = 0
    if AuditEvent.objects.filter(organization=organization, created_at__lt=cutoff).exists():
        while removed := chain_purge_batch(
            organization_id=organization.pk, cutoff=cutoff, batch_size=batch_size
        ):
            audit_events += removed
            if removed < batch_size:
                break
    while removed := usage_purge_batch(
        organization_id=organization.pk, cutoff=cutoff, batch_size=batch_size
    ):
        usage_events += removed
    while tool_call_bodies_purge_batch(
        organization_id=organization.pk, cutoff=cutoff, batch_size=batch_size
    ):
        pass  # counted with the usage events they belong to
    usage_days = usage_days_purge(organization_id=organization.pk, cutoff=cutoff)
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
