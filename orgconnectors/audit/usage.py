"""Usage events, the writing side: recorded after the causing transaction commits, in one INSERT
that locks nothing but its own new rows; counted into daily rows by a beat task.

Configuration hand-outs, authorizations and token refreshes (orgconnectors.oauth, the messages
API configuration) and health changes (orgconnectors.health) call usage_record.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from orgconnectors.audit.body_redaction import kept_body
from orgconnectors.audit.models import ToolCallBody, UsageDay, UsageEvent, UsageRollupState

logger = logging.getLogger(__name__)

Kind = UsageEvent.Kind
_IP = UsageEvent._meta.get_field("ip")
# The rollup leaves out the newest events for this long: an event is stamped just before its
# INSERT, which may commit a moment later. Pages add the events since the rollup themselves.
ROLLUP_LAG = timedelta(minutes=2)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _id(obj) -> int | None:
    return getattr(obj, "pk", obj)


def _event(*, organization, kind, user, connector, api_token, ip, details) -> UsageEvent:
    return UsageEvent(
        organization_id=_id(organization),
        kind=Kind(kind),
        user_id=_id(user),
        connector_id=_id(connector),
        api_token_id=_id(api_token),
        ip=_IP.get_prep_value(ip) or None,
        details=details or {},
    )


_COLUMNS = [f for f in UsageEvent._meta.concrete_fields if not f.primary_key]


def _insert(events: list[UsageEvent]) -> None:
    """One INSERT statement. On PostgreSQL in its own transaction that does not wait for the
    disk (synchronous_commit off): a crash may lose the last moment of usage logs, but no
    request waits for a flush of its usage event. (The audit trail keeps waiting: it is the
    evidence.) Elsewhere in autocommit: one statement is atomic by itself."""
    # Stamped now, when they take effect: the rollup counts everything older than two minutes,
    # and a transaction that ran longer than that would otherwise slip under it.
    now = timezone.now()
    for event in events:
        event.created_at = now
    row = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _COLUMNS)
    sql = f"INSERT INTO {UsageEvent._meta.db_table} ({columns}) VALUES " + ", ".join(
        [row] * len(events)
    )
    params = [
        field.get_db_prep_save(getattr(event, field.attname), connection)
        for event in events
        for field in _COLUMNS
    ]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(sql, params)


def _write(events: list[UsageEvent]) -> None:
    if not transaction.get_connection().in_atomic_block:
        _insert(events)
        return

    def usage_insert() -> None:
        _insert(events)

    # Nothing is recorded for work that rolls back; a failed INSERT is logged, never turned
    # into an error for the request that already succeeded.
    transaction.on_commit(usage_insert, robust=True)


def usage_record(
    *,
    organization,
    kind: str,
    user=None,
    connector=None,
    api_token=None,
    ip: str | None = None,
    details: dict | None = None,
) -> None:
    """Record one usage event. Objects or their ids are accepted for every reference."""
    _write([
        _event(
            organization=organization, kind=kind, user=user, connector=connector,
            api_token=api_token, ip=ip, details=details,
        )
    ])  # fmt: skip


def usage_record_many(
    *,
    organization,
    kind: str,
    connectors,
    user=None,
    api_token=None,
    ip: str | None = None,
    details: dict | None = None,
) -> None:
    """One usage event per connector (a configuration naming ten connectors), in one INSERT."""
    events = [
        _event(
            organization=organization, kind=kind, user=user, connector=connector,
            api_token=api_token, ip=ip, details=details,
        )
        for connector in connectors
    ]  # fmt: skip
    if events:
        _write(events)


def usage_record_rows(rows: list[dict]) -> None:
    """Many usage events of any kinds and organizations in one INSERT, outside any transaction:
    the gateway's buffered tool calls. Each row holds usage_record's keyword arguments."""
    events = [
        _event(
            organization=row["organization"], kind=row["kind"], user=row.get("user"),
            connector=row.get("connector"), api_token=row.get("api_token"), ip=row.get("ip"),
            details=row.get("details"),
        )
        for row in rows
    ]  # fmt: skip
    if events:
        _insert(events)
    # Bodies an organization chose to keep: redacted here, in the writer, off the call's path.
    bodies = [
        ToolCallBody(
            organization_id=_id(row["organization"]),
            call_id=row["details"]["call_id"],
            tool=row["details"].get("tool", "")[:128],
            request=kept_body(row["body"]["request"]),
            response=kept_body(row["body"]["response"]),
        )
        for row in rows
        if row.get("body")
    ]
    if bodies:
        ToolCallBody.objects.bulk_create(bodies, ignore_conflicts=True)


def _day(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _count_sql(dimension: str, key: str, only: str) -> str:
    days, events = UsageDay._meta.db_table, UsageEvent._meta.db_table
    return f"""
        INSERT INTO {days} (organization_id, day, dimension, "key", kind, "count")
        SELECT organization_id, {_day("created_at")}, '{dimension}', {key}, kind, COUNT(*)
        FROM {events}
        WHERE created_at >= %s AND created_at < %s {only}
        GROUP BY organization_id, {_day("created_at")}, {key}, kind
        ON CONFLICT (organization_id, dimension, day, "key", kind)
        DO UPDATE SET "count" = {days}."count" + excluded."count"
    """


def usage_rollup(*, now: datetime | None = None) -> int:
    """Count the usage events since the last rollup into UsageDay; returns the rows touched.

    The rollup state row is locked for the duration, so two rollups never count the same
    events twice; a missed run is caught up by the next one.
    """
    upper = (now or timezone.now()) - ROLLUP_LAG
    with transaction.atomic():
        UsageRollupState.objects.get_or_create(pk=1, defaults={"rolled_through": EPOCH})
        state = UsageRollupState.objects.select_for_update().get(pk=1)
        lower = state.rolled_through
        if upper <= lower:
            return 0
        bounds = [connection.ops.adapt_datetimefield_value(v) for v in (lower, upper)]
        touched = 0
        with connection.cursor() as cursor:
            cursor.execute(_count_sql("connector", "COALESCE(connector_id, 0)", ""), bounds)
            touched += max(cursor.rowcount, 0)
            cursor.execute(_count_sql("member", "user_id", "AND user_id IS NOT NULL"), bounds)
            touched += max(cursor.rowcount, 0)
        state.rolled_through = upper
        state.save(update_fields=["rolled_through"])
    logger.info("usage rollup through %s: %d daily rows", upper.isoformat(), touched)
    return touched


def rolled_through() -> datetime:
    state = UsageRollupState.objects.filter(pk=1).values_list("rolled_through", flat=True).first()
    return state or EPOCH
