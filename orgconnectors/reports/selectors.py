"""The audit trail as owners and auditors read it: filters, keyset pages, one event, and what
the filter forms offer."""

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.organizations.models import Membership

# Past this many matching actor names, a list of names is no better than the text match.
_MAX_ACTOR_LABELS = 100


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    target: str = ""
    date_from: date | None = None
    date_to: date | None = None
    connector: int | None = None
    member: int | None = None  # a user id: events by them or about them
    outcome: str = ""

    def as_query(self) -> dict[str, str]:
        """The filters as a list's query string has them (for exports and their jobs)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "connector": "" if self.connector is None else str(self.connector),
            "member": "" if self.member is None else str(self.member),
            "outcome": self.outcome,
        }
        return {name: value for name, value in values.items() if value}

    @classmethod
    def from_query(cls, query: dict[str, str]) -> "AuditFilters":
        """Back from as_query() (an export job's stored filters, validated when asked for)."""
        return cls(
            actor=query.get("actor", ""),
            action=query.get("action", ""),
            target=query.get("target", ""),
            date_from=query_date(query.get("date_from")),
            date_to=query_date(query.get("date_to")),
            connector=query_int(query.get("connector")),
            member=query_int(query.get("member")),
            outcome=query.get("outcome", ""),
        )


def query_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def query_int(value: str | None) -> int | None:
    return int(value) if value else None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


def encode_cursor(event) -> str:
    raw = json.dumps([event.created_at.isoformat(), event.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        # Those handed out are aware; one whose offset pushes it past year 1 or 9999 in UTC
        # would overflow where the database needs it in UTC.
        return datetime.fromisoformat(created_at).astimezone(UTC), int(pk)
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError):
        raise InvalidCursor("the cursor is not one this server handed out") from None


def _before(rows: QuerySet, created_at: datetime, pk: int) -> QuerySet:
    # The first condition is implied by the second; it is there for the planner, which starts
    # the index scan at that point instead of at the newest row (it cannot see through the OR).
    return rows.filter(created_at__lte=created_at).filter(
        Q(created_at__lt=created_at) | Q(id__lt=pk)
    )


def after_cursor(rows: QuerySet, cursor: str | None) -> QuerySet:
    """The rows after `cursor` in newest-first order (created_at, then id)."""
    if not cursor:
        return rows
    return _before(rows, *decode_cursor(cursor))


def in_date_range(rows: QuerySet, date_from: date | None, date_to: date | None) -> QuerySet:
    tz = timezone.get_current_timezone()
    if date_from:
        rows = rows.filter(created_at__gte=datetime.combine(date_from, time.min, tz))
    # The last representable day has no next day to stop before; nothing is later anyway.
    if date_to and date_to < date.max:
        rows = rows.filter(
            created_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tz)
        )
    return rows


def distinct_values(*, organization, column: str) -> list[str]:
    """The distinct values of an indexed column of the organization's events, in order.

    SELECT DISTINCT would read every event of the organization; this loose index scan asks the
    (organization, column, ...) index for the next larger value once per value instead.
    """
    if column not in ("action", "actor_label"):
        raise ValueError(f"no index leads with organization, {column}")
    table = AuditEvent._meta.db_table
    sql = f"""
        WITH RECURSIVE found(value) AS (
            SELECT MIN({column}) FROM {table} WHERE organization_id = %s
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table}
                    WHERE organization_id = %s AND {column} > found.value)
            FROM found WHERE found.value IS NOT NULL
        )
        SELECT value FROM found WHERE value IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization.pk, organization.pk])
        return [row[0] for row in cursor.fetchall()]


def _by_actor(events: QuerySet, organization, text: str, known: list[str] | None) -> QuerySet:
    # The names that contain the text, then those names exactly: the index on (organization,
    # actor_label, created_at) then hands the newest events in order, however many there are.
    needle = text.casefold()
    if known is None:
        known = distinct_values(organization=organization, column="actor_label")
    labels = [label for label in known if needle in label.casefold()]
    if len(labels) > _MAX_ACTOR_LABELS:
        return events.filter(actor_label__icontains=text)
    return events.filter(actor_label__in=labels)


def audit_events_filtered(
    *, organization, filters: AuditFilters, actor_labels: list[str] | None = None
) -> QuerySet[AuditEvent]:
    """`actor_labels`: the organization's actor names, when the caller has read them already."""
    events = AuditEvent.objects.filter(organization=organization)
    if filters.actor:
        events = _by_actor(events, organization, filters.actor, actor_labels)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.target:
        by_name = Q(target_label__icontains=filters.target)
        # Ids are numbers; a word can only be part of a name, which the trigram index finds.
        events = events.filter(
            by_name | Q(target_id=filters.target) if filters.target.isdigit() else by_name
        )
    if filters.connector is not None:
        events = events.filter(connector_ref=filters.connector)
    if filters.member is not None:
        events = events.filter(Q(member_ref=filters.member) | Q(actor_id=filters.member))
    if filters.outcome == AuditEvent.Outcome.SUCCESS:
        events = events.filter(outcome=filters.outcome)
    elif filters.outcome:
        # Spelled like the partial index's condition, so the planner sees it applies.
        events = events.filter(outcome=filters.outcome).exclude(outcome=AuditEvent.Outcome.SUCCESS)
    events = in_date_range(events, filters.date_from, filters.date_to)
    return events.order_by("-created_at", "-id")


def audit_events_page(
    *,
    organization,
    filters: AuditFilters,
    cursor: str | None = None,
    limit: int = 50,
    actor_labels: list[str] | None = None,
) -> AuditPage:
    """Keyset pagination: the newest first, stable while new events arrive."""
    events = audit_events_filtered(
        organization=organization, filters=filters, actor_labels=actor_labels
    )
    events = after_cursor(events, cursor)
    rows = list(events[: limit + 1])
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return AuditPage(events=rows[:limit], next_cursor=next_cursor)


def keyset_pages(
    rows: QuerySet, *, columns: tuple[str, ...], batch_size: int, first_batch: int | None = None
) -> Iterator[list[dict]]:
    """`rows` (ordered newest first by created_at, id) as pages of `batch_size` dicts, each
    page one indexed query after the last one's position: memory stays the same for ten rows or
    ten million. The first page may be smaller, so the first rows leave at once."""
    wanted = tuple(dict.fromkeys((*columns, "created_at", "id")))
    last, size = None, first_batch or batch_size
    while True:
        page = rows if last is None else _before(rows, *last)
        batch = list(page.values(*wanted)[:size])
        if batch:
            yield batch
        if len(batch) < size:
            return
        last, size = (batch[-1]["created_at"], batch[-1]["id"]), batch_size


def audit_actions(*, organization) -> list[str]:
    return distinct_values(organization=organization, column="action")


def audit_actor_labels(*, organization) -> list[str]:
    return distinct_values(organization=organization, column="actor_label")


def audit_event_get(*, organization, event_id) -> AuditEvent:
    """One event of the organization; another organization's event is 404 like an absent one."""
    try:
        return AuditEvent.objects.get(organization=organization, pk=int(event_id))
    except (AuditEvent.DoesNotExist, ValueError, TypeError):
        raise Http404("No such event") from None


@dataclass(frozen=True)
class FilterChoices:
    connectors: list
    members: list
    actions: list[str]
    actor_labels: list[str]


def audit_filter_choices(*, organization, with_trail: bool = True) -> FilterChoices:
    """What the filter forms offer: the organization's connectors and members, and (for the
    trail) the actions and actor names that occur in it."""
    connectors = list(Connector.objects.filter(organization=organization).only("id", "name"))
    members = list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .only("user_id", "user__email")
        .order_by("user__email")
    )
    if not with_trail:
        return FilterChoices(connectors, members, [], [])
    return FilterChoices(
        connectors,
        members,
        audit_actions(organization=organization),
        audit_actor_labels(organization=organization),
    )
