"""Tool calls through the gateway, for the usage page and API: calls, errors and latency
(p50/p95) per connector, member and tool, and calls per day by outcome.

Read from the usage events of kind `tool_call` (one per call, written in batches by the
gateway); on PostgreSQL the percentiles are computed by the database (`percentile_cont`), so a
month of calls is one grouped query per table, not rows fetched into Python.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import quantiles

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from orgconnectors.audit.models import UsageEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.organizations.models import Organization

TOOL_CALL = "tool_call"
OUTCOMES = ("ok", "tool_error", "upstream_error", "denied", "cancelled")
OUTCOME_LABELS = {
    "ok": "Succeeded",
    "tool_error": "Tool error",
    "upstream_error": "Server unreachable or failing",
    "denied": "Refused by the gateway",
    "cancelled": "Cancelled",
}


class _Percentile(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float):
        super().__init__(expression, fraction=float(fraction))


@dataclass(frozen=True)
class CallStats:
    label: str
    calls: int
    errors: int  # every outcome but ok
    denied: int
    p50_ms: float | None
    p95_ms: float | None

    @property
    def error_percent(self) -> float:
        return 100.0 * self.errors / self.calls if self.calls else 0.0

    def as_json(self) -> dict:
        return {
            "label": self.label,
            "calls": self.calls,
            "errors": self.errors,
            "denied": self.denied,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
        }


@dataclass(frozen=True)
class OutcomeSeries:
    outcome: str
    label: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class ToolCallOverview:
    days: list[date]
    by_outcome: list[OutcomeSeries]  # calls per day, one series per outcome seen
    total: CallStats
    by_connector: list[CallStats]
    by_member: list[CallStats]
    by_tool: list[CallStats]  # labelled "connector · tool"


def _duration():
    return Cast(KeyTextTransform("duration_ms", "details"), FloatField())


def _outcome():
    return KeyTextTransform("outcome", "details")


def _calls(organization: Organization, start: datetime, connector_id: int | None):
    calls = UsageEvent.objects.filter(
        organization=organization, kind=TOOL_CALL, created_at__gte=start
    )
    return calls.filter(connector_id=connector_id) if connector_id else calls


def _grouped(calls, *keys) -> list[dict]:
    counts = {
        "calls": Count("id"),
        "errors": Count("id", filter=~Q(details__outcome="ok")),
        "denied": Count("id", filter=Q(details__outcome="denied")),
    }
    if connection.vendor == "postgresql":
        return list(
            calls.values(*keys).annotate(
                **counts,
                p50=_Percentile(_duration(), fraction=0.5),
                p95=_Percentile(_duration(), fraction=0.95),
            )
        )
    # SQLite (the embedded default) has no percentile_cont: the same numbers, in Python.
    rows = list(calls.values(*keys).annotate(**counts))
    durations: dict[tuple, list[float]] = defaultdict(list)
    for *key, duration in calls.values_list(*keys, _duration()):
        if duration is not None:
            durations[tuple(key)].append(duration)
    for row in rows:
        row["p50"], row["p95"] = _percentiles(durations[tuple(row[k] for k in keys)])
    return rows


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    cuts = quantiles(values, n=100, method="inclusive")  # as percentile_cont interpolates
    return cuts[49], cuts[94]


def _stats(label: str, row: dict) -> CallStats:
    def rounded(value):
        return None if value is None else round(float(value), 1)

    return CallStats(
        label=label,
        calls=row["calls"],
        errors=row["errors"],
        denied=row["denied"],
        p50_ms=rounded(row["p50"]),
        p95_ms=rounded(row["p95"]),
    )


def _by_calls(stats: list[CallStats]) -> list[CallStats]:
    return sorted(stats, key=lambda s: (-s.calls, s.label))


def tool_call_overview(
    *, organization: Organization, days: int = 30, connector_id: int | None = None, now=None
) -> ToolCallOverview:
    """The organization's tool calls over the last `days` UTC days (today included)."""
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    calls = _calls(organization, start, connector_id)
    names = dict(Connector.objects.filter(organization=organization).values_list("id", "name"))
    emails = dict(organization.memberships.values_list("user_id", "user__email"))

    def connector_label(connector_id):
        return names.get(connector_id, f"Removed connector #{connector_id}")

    def member_label(user_id):
        return emails.get(user_id, f"Former member #{user_id}") if user_id else "No member"

    total_rows = _grouped(calls.annotate(all=F("organization_id")), "all")
    empty = {"calls": 0, "errors": 0, "denied": 0, "p50": None, "p95": None}
    total = _stats("All tool calls", total_rows[0] if total_rows else empty)
    by_connector = [
        _stats(connector_label(r["connector_id"]), r) for r in _grouped(calls, "connector_id")
    ]
    by_member = [_stats(member_label(r["user_id"]), r) for r in _grouped(calls, "user_id")]
    tool_rows = _grouped(
        calls.annotate(tool=KeyTextTransform("tool", "details")), "connector_id", "tool"
    )
    by_tool = [_stats(f"{connector_label(r['connector_id'])} · {r['tool']}", r) for r in tool_rows]

    day_list = [first + timedelta(days=i) for i in range(days)]
    index = {day: i for i, day in enumerate(day_list)}
    per_outcome: dict[str, list[int]] = {}
    daily = (
        calls.annotate(day=TruncDate("created_at", tzinfo=UTC), outcome=_outcome())
        .values("day", "outcome")
        .annotate(n=Count("id"))
    )
    for row in daily:
        if row["day"] in index:
            counts = per_outcome.setdefault(row["outcome"] or "ok", [0] * days)
            counts[index[row["day"]]] += row["n"]
    by_outcome = [
        OutcomeSeries(outcome, OUTCOME_LABELS.get(outcome, outcome), per_outcome[outcome])
        for outcome in (*OUTCOMES, *sorted(set(per_outcome) - set(OUTCOMES)))
        if outcome in per_outcome
    ]
    return ToolCallOverview(
        days=day_list,
        by_outcome=by_outcome,
        total=total,
        by_connector=_by_calls(by_connector),
        by_member=_by_calls(by_member),
        by_tool=_by_calls(by_tool),
    )
