import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    target: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


def encode_cursor(event: AuditEvent) -> str:
    raw = json.dumps([event.created_at.isoformat(), event.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(created_at), int(pk)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise InvalidCursor("the cursor is not one this server handed out") from None


def audit_events_filtered(*, organization, filters: AuditFilters) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organization=organization)
    if filters.actor:
        events = events.filter(actor_label__icontains=filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.target:
        events = events.filter(
            Q(target_label__icontains=filters.target) | Q(target_id=filters.target)
        )
    tz = timezone.get_current_timezone()
    if filters.date_from:
        events = events.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tz))
    # The last representable day has no next day to stop before; nothing is later anyway.
    if filters.date_to and filters.date_to < date.max:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tz)
        events = events.filter(created_at__lt=end)
    return events.order_by("-created_at", "-id")


def audit_events_page(
    *, organization, filters: AuditFilters, cursor: str | None = None, limit: int = 50
) -> AuditPage:
    """Keyset pagination: the newest first, stable while new events arrive."""
    events = audit_events_filtered(organization=organization, filters=filters)
    if cursor:
        created_at, pk = decode_cursor(cursor)
        events = events.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    rows = list(events[: limit + 1])
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return AuditPage(events=rows[:limit], next_cursor=next_cursor)


def audit_actions(*, organization) -> list[str]:
    return list(
        AuditEvent.objects.filter(organization=organization)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def audit_event_get(*, organization, event_id) -> AuditEvent:
    """One event of the organization; another organization's event is 404 like an absent one."""
    try:
        return AuditEvent.objects.get(organization=organization, pk=int(event_id))
    except (AuditEvent.DoesNotExist, ValueError, TypeError):
        raise Http404("No such event") from None
