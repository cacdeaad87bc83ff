"""Usage, the reading side: the usage events list and the usage page's figures.

The page reads the daily counts (UsageDay) and adds the few events since the last rollup, in
one snapshot, so its cost follows days × connectors, not the number of events.
"""

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from orgconnectors.audit.models import UsageDay, UsageEvent
from orgconnectors.audit.usage import rolled_through
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.health.models import HealthCheck, HealthDailyRollup
from orgconnectors.health.outcomes import UP
from orgconnectors.organizations.models import Membership
from orgconnectors.reports.selectors import (
    AuditPage,
    after_cursor,
    encode_cursor,
    in_date_range,
    query_date,
    query_int,
)

Dimension = UsageDay.Dimension
TOP_CONNECTORS = 6
TOP_MEMBERS = 6


@dataclass(frozen=True)
class UsageFilters:
    kind: str = ""
    connector: int | None = None
    member: int | None = None  # a user id
    date_from: date | None = None
    date_to: date | None = None

    def as_query(self) -> dict[str, str]:
        values = {
            "kind": self.kind,
            "connector": "" if self.connector is None else str(self.connector),
            "member": "" if self.member is None else str(self.member),
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {name: value for name, value in values.items() if value}

    @classmethod
    def from_query(cls, query: dict[str, str]) -> "UsageFilters":
        return cls(
            kind=query.get("kind", ""),
            connector=query_int(query.get("connector")),
            member=query_int(query.get("member")),
            date_from=query_date(query.get("date_from")),
            date_to=query_date(query.get("date_to")),
        )


def usage_events_filtered(*, organization, filters: UsageFilters) -> QuerySet[UsageEvent]:
    events = UsageEvent.objects.filter(organization_id=organization.pk)
    if filters.kind:
        events = events.filter(kind=filters.kind)
    if filters.connector is not None:
        events = events.filter(connector_id=filters.connector)
    if filters.member is not None:
        events = events.filter(user_id=filters.member)
    events = in_date_range(events, filters.date_from, filters.date_to)
    return events.order_by("-created_at", "-id")


def usage_events_page(
    *, organization, filters: UsageFilters, cursor: str | None = None, limit: int = 50
) -> AuditPage:
    """Keyset pagination, newest first, like the audit trail."""
    events = after_cursor(usage_events_filtered(organization=organization, filters=filters), cursor)
    rows = list(events[: limit + 1])
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return AuditPage(events=rows[:limit], next_cursor=next_cursor)


def usage_events_upper_bound(*, organization, filters: UsageFilters) -> int:
    """At least as many as usage_events_filtered would give, from the daily counts: enough to
    tell a small export from a large one without counting millions of events."""
    dimension = Dimension.MEMBER if filters.member is not None else Dimension.CONNECTOR
    days = UsageDay.objects.filter(organization_id=organization.pk, dimension=dimension)
    if filters.kind:
        days = days.filter(kind=filters.kind)
    if filters.member is not None:
        days = days.filter(key=filters.member)
    elif filters.connector is not None:
        days = days.filter(key=filters.connector)
    # A day either side covers the time zones; the calendar's first and last days have none.
    if filters.date_from and filters.date_from > date.min:
        days = days.filter(day__gte=filters.date_from - timedelta(days=1))
    if filters.date_to and filters.date_to < date.max:
        days = days.filter(day__lte=filters.date_to + timedelta(days=1))
    counted = days.aggregate(total=Sum("count"))["total"] or 0
    recent = usage_events_filtered(organization=organization, filters=filters).filter(
        created_at__gte=rolled_through()
    )
    return counted + recent.count()


@contextmanager
def consistent_snapshot():
    """The daily counts, the rollup's position and the newest events read at one instant: a
    rollup committing in between would otherwise count some events twice or not at all."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


@dataclass(frozen=True)
class Series:
    label: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class ConnectorUse:
    label: str
    members_connected: int
    uptime_percent: float | None
    checks: int


@dataclass(frozen=True)
class UsageOverview:
    days: list[date]
    by_connector: list[Series]
    by_member: list[Series]
    top_connectors: list[Series]
    by_kind: dict[str, int]
    connectors: list[ConnectorUse]
    members: int
    limit: int
    connections_in_use: int
    members_at_limit: int

    @property
    def capacity(self) -> int:
        return self.members * self.limit


def _day_index(days: list[date]) -> dict[date, int]:
    return {day: i for i, day in enumerate(days)}


def _top_series(
    per_key: dict[int, list[int]], labels: dict[int, str], top: int, other: str
) -> list[Series]:
    ranked = sorted(per_key.items(), key=lambda item: (-sum(item[1]), labels.get(item[0], "")))
    series = [Series(labels.get(key, f"#{key}"), counts) for key, counts in ranked[:top]]
    rest = ranked[top:]
    if rest:
        width = len(rest[0][1])
        series.append(Series(other, [sum(counts[i] for _, counts in rest) for i in range(width)]))
    return series


def _counts(organization, days: list[date], kind: str, start: datetime, watermark: datetime):
    """{dimension: {key: [count per day]}} from the daily rows plus the events since."""
    index = _day_index(days)
    per: dict[str, dict[int, list[int]]] = {
        Dimension.CONNECTOR: defaultdict(lambda: [0] * len(days)),
        Dimension.MEMBER: defaultdict(lambda: [0] * len(days)),
    }
    rolled = UsageDay.objects.filter(organization_id=organization.pk, day__gte=days[0])
    if kind:
        rolled = rolled.filter(kind=kind)
    rows = rolled.values_list("dimension", "key", "day").annotate(n=Sum("count")).order_by()
    for dimension, key, day, n in rows:
        if day in index:
            per[dimension][key][index[day]] += n
    recent = UsageEvent.objects.filter(
        organization_id=organization.pk, created_at__gte=max(watermark, start)
    )
    if kind:
        recent = recent.filter(kind=kind)
    for created_at, connector_id, user_id in recent.values_list(
        "created_at", "connector_id", "user_id"
    ):
        i = index.get(created_at.astimezone(UTC).date())
        if i is None:
            continue
        per[Dimension.CONNECTOR][connector_id or 0][i] += 1
        if user_id is not None:
            per[Dimension.MEMBER][user_id][i] += 1
    return per


def _by_kind(organization, first_day: date, start: datetime, watermark: datetime) -> dict[str, int]:
    totals = dict.fromkeys(UsageEvent.Kind.values, 0)
    rows = (
        UsageDay.objects.filter(
            organization_id=organization.pk, dimension=Dimension.CONNECTOR, day__gte=first_day
        )
        .values_list("kind")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for kind, n in rows:
        totals[kind] = totals.get(kind, 0) + n
    recent = (
        UsageEvent.objects.filter(
            organization_id=organization.pk, created_at__gte=max(watermark, start)
        )
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for kind, n in recent:
        totals[kind] = totals.get(kind, 0) + n
    return totals


def _uptime(organization, first_day: date, start: datetime) -> dict[int, tuple[int, int]]:
    """{connector id: (checks, up checks)}: folded days from the rollups, recent ones live."""
    found: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    folded = (
        HealthDailyRollup.objects.filter(connector__organization=organization, day__gte=first_day)
        .values_list("connector_id")
        .annotate(checks=Sum("checks"), up=Sum("up_checks"))
        .order_by()
    )
    for connector_id, checks, up in folded:
        found[connector_id][0] += checks
        found[connector_id][1] += up
    live = (
        HealthCheck.objects.filter(organization=organization, checked_at__gte=start)
        .values_list("connector_id")
        .annotate(checks=Count("id"), up=Count("id", filter=Q(outcome__in=[o.value for o in UP])))
        .order_by()
    )
    for connector_id, checks, up in live:
        found[connector_id][0] += checks
        found[connector_id][1] += up
    return {key: (checks, up) for key, (checks, up) in found.items()}


def usage_overview(*, organization, days: int = 30, kind: str = "", now=None) -> UsageOverview:
    """Everything the usage page shows, in a constant number of queries."""
    now = now or timezone.now()
    last_day = now.astimezone(UTC).date()
    day_list = [last_day - timedelta(days=n) for n in range(days - 1, -1, -1)]
    start = datetime.combine(day_list[0], time.min, UTC)
    connectors = {
        c.pk: c.name for c in Connector.objects.filter(organization=organization).only("id", "name")
    }
    people = dict(
        Membership.objects.filter(organization=organization).values_list("user_id", "user__email")
    )
    with consistent_snapshot():
        watermark = rolled_through()
        per = _counts(organization, day_list, kind, start, watermark)
        by_kind = _by_kind(organization, day_list[0], start, watermark)
    connector_labels = {**connectors, 0: "No connector"}
    by_connector = _top_series(
        per[Dimension.CONNECTOR],
        {k: connector_labels.get(k, f"Removed connector #{k}") for k in per[Dimension.CONNECTOR]},
        TOP_CONNECTORS,
        "Other connectors",
    )
    by_member = _top_series(
        per[Dimension.MEMBER],
        {k: people.get(k, f"Former member #{k}") for k in per[Dimension.MEMBER]},
        TOP_MEMBERS,
        "Other members",
    )
    in_use = Connection.objects.filter(
        connector__organization=organization, state__in=Connection.IN_USE
    )
    connected = dict(in_use.values_list("connector_id").annotate(n=Count("id")).order_by())
    per_member = list(in_use.values_list("membership_id").annotate(n=Count("id")).order_by())
    uptime = _uptime(organization, day_list[0], start)
    limit = organization.max_enabled_connections
    totals = {key: sum(counts) for key, counts in per[Dimension.CONNECTOR].items()}
    top = sorted((k for k in totals if k), key=lambda k: -totals[k])[:10]
    return UsageOverview(
        days=day_list,
        by_connector=by_connector,
        by_member=by_member,
        top_connectors=[
            Series(connector_labels.get(k, f"Removed connector #{k}"), [totals[k]]) for k in top
        ],
        by_kind=by_kind,
        connectors=[
            ConnectorUse(
                label=name,
                members_connected=connected.get(pk, 0),
                uptime_percent=(
                    100.0 * uptime[pk][1] / uptime[pk][0] if uptime.get(pk, (0, 0))[0] else None
                ),
                checks=uptime.get(pk, (0, 0))[0],
            )
            for pk, name in sorted(connectors.items(), key=lambda item: item[1].casefold())
        ],
        members=Membership.objects.filter(
            organization=organization, role__in=[Membership.Role.OWNER, Membership.Role.MEMBER]
        ).count(),
        limit=limit,
        connections_in_use=sum(n for _, n in per_member),
        members_at_limit=sum(1 for _, n in per_member if n >= limit),
    )
