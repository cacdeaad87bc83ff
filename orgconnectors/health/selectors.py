"""Health checks, the reading side. Runs are found through their organization (404 otherwise);
connectors come from `connectors.selectors.connector_get`, which already did that, or from
`connector_with_last_outcome_get` here when their latest check's outcome is wanted too."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.selectors import connectors_of
from orgconnectors.health.models import HealthCheck, HealthDailyRollup, HealthRun
from orgconnectors.health.outcomes import UP, Outcome
from orgconnectors.health.rollups import percentile
from orgconnectors.health.transitions import DOWN_AFTER_FAILURES
from orgconnectors.organizations.models import Organization


@dataclass(frozen=True)
class RunProgress:
    run: HealthRun
    checks: list[HealthCheck]  # done so far, newest first, with their connector

    @property
    def percent(self) -> int:
        if not self.run.total:
            return 100
        return min(100, round(100 * self.run.done / self.run.total))

    @property
    def finished(self) -> bool:
        return self.run.finished

    @property
    def outcome_counts(self) -> list[tuple[str, int]]:
        """[("Healthy", 3), ("Unreachable", 1)]: what the run found so far, in words."""
        counts: dict[str, int] = defaultdict(int)
        for check in self.checks:
            counts[check.outcome] += 1
        return [(o.label, counts[o.value]) for o in Outcome if counts[o.value]]

    @property
    def all_up(self) -> bool:
        return all(check.outcome in UP for check in self.checks)

    @property
    def summary(self) -> str:
        """The finished run in one sentence, for the toast that announces it."""
        if self.run.kind == HealthRun.Kind.ONE and self.checks:
            check = self.checks[0]
            if check.error:
                detail = f" — {check.error}"
            elif check.latency_ms is not None:
                detail = f" · {check.latency_ms} ms"
            else:
                detail = ""
            return f"{check.connector.name} was checked: {check.get_outcome_display()}{detail}."
        if not self.run.total:
            return "Check all finished: there was nothing to check."
        found = ", ".join(f"{count} {label.lower()}" for label, count in self.outcome_counts)
        return f"Check all finished: {self.run.done} of {self.run.total} checked" + (
            f" ({found})." if found else "."
        )


# The outcome of the connector's latest check (its status only sums them up).
_LAST_OUTCOME = Subquery(
    HealthCheck.objects.filter(connector=OuterRef("pk"))
    .order_by("-checked_at", "-id")
    .values("outcome")[:1]
)


def connectors_with_last_outcome(*, organization: Organization) -> QuerySet[Connector]:
    """`connectors_of`, each with `last_outcome`: what its latest check found (None before)."""
    return connectors_of(organization=organization).annotate(last_outcome=_LAST_OUTCOME)


def connector_with_last_outcome_get(*, organization: Organization, connector_id) -> Connector:
    """As `connector_get` (the same 404 for absent and another organization's), with
    `last_outcome`."""
    try:
        return connectors_with_last_outcome(organization=organization).get(pk=int(connector_id))
    except (Connector.DoesNotExist, ValueError, TypeError):
        raise Http404("No such connector") from None


def health_run_get(*, organization: Organization, run_id) -> HealthRun:
    try:
        return HealthRun.objects.get(organization=organization, pk=int(run_id))
    except (HealthRun.DoesNotExist, ValueError, TypeError):
        raise Http404("No such health check run") from None


def health_run_pending(*, organization: Organization, run_id) -> HealthRun | None:
    """The organization's run if it is still going; None for anything else (a finished run, a
    foreign or malformed id): a page only follows a run while there is something to wait for."""
    try:
        run = health_run_get(organization=organization, run_id=run_id)
    except Http404:
        return None
    return None if run.finished else run


def health_run_progress(*, organization: Organization, run_id) -> RunProgress:
    """How far a "Check all" (or "Check now") has come, and what it found so far."""
    run = health_run_get(organization=organization, run_id=run_id)
    checks = list(
        HealthCheck.objects.filter(run=run)
        .select_related("connector")
        .order_by("-checked_at", "-id")
    )
    return RunProgress(run=run, checks=checks)


def connector_health_history(*, connector: Connector, limit: int = 50) -> list[HealthCheck]:
    """The connector's latest individual checks, newest first (kept for the retention days)."""
    return list(
        HealthCheck.objects.filter(connector=connector).order_by("-checked_at", "-id")[:limit]
    )


def connector_last_check(*, connector: Connector) -> HealthCheck | None:
    """The latest check: its notes, and for auth_required its OAuth metadata."""
    return HealthCheck.objects.filter(connector=connector).order_by("-checked_at", "-id").first()


@dataclass(frozen=True)
class ConnectorHealth:
    """What the connector page shows of its health."""

    last_check: HealthCheck | None
    history: list[HealthCheck]  # newest first
    days: list["DayHealth"]  # newest first


def connector_health(
    *, connector: Connector, history_limit: int = 20, days: int = 30
) -> ConnectorHealth:
    history = connector_health_history(connector=connector, limit=history_limit)
    return ConnectorHealth(
        last_check=history[0] if history else None,
        history=history,
        days=connector_health_days(connector=connector, days=days),
    )


@dataclass(frozen=True)
class DayHealth:
    day: date
    checks: int
    up_checks: int
    p50_latency_ms: int | None
    p95_latency_ms: int | None

    @property
    def uptime_percent(self) -> float:
        return 100.0 * self.up_checks / self.checks if self.checks else 0.0


def connector_health_days(*, connector: Connector, days: int = 30, now=None) -> list[DayHealth]:
    """One entry per UTC day with checks, newest first: rollups for days already folded,
    computed from the individual checks for the recent ones."""
    now = now or timezone.now()
    first_day = (now - timedelta(days=days - 1)).astimezone(UTC).date()
    result: dict[date, DayHealth] = {
        r.day: DayHealth(r.day, r.checks, r.up_checks, r.p50_latency_ms, r.p95_latency_ms)
        for r in HealthDailyRollup.objects.filter(connector=connector, day__gte=first_day)
    }
    live: dict[date, list] = defaultdict(list)
    rows = HealthCheck.objects.filter(
        connector=connector, checked_at__date__gte=first_day
    ).values_list("checked_at", "outcome", "latency_ms")
    for checked_at, outcome, latency_ms in rows:
        live[checked_at.astimezone(UTC).date()].append((Outcome(outcome) in UP, latency_ms))
    for day, entries in live.items():
        latencies = sorted(ms for up, ms in entries if up and ms is not None)
        result[day] = DayHealth(
            day=day,
            checks=len(entries) + (result[day].checks if day in result else 0),
            up_checks=sum(up for up, _ in entries)
            + (result[day].up_checks if day in result else 0),
            p50_latency_ms=percentile(latencies, 0.50),
            p95_latency_ms=percentile(latencies, 0.95),
        )
    return [result[day] for day in sorted(result, reverse=True)]


def _since(moment) -> str:
    """ "09:14" today, "Dec 5, 09:14" before: the clock time alone would hide a day's outage."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M}"
    return f"{local:%b} {local.day}, {local:%H:%M}"


def health_line(connector: Connector) -> str:
    """The connector's health in words, as the connector list shows it.

    "Healthy · 120 ms", "Down since 09:14 — connection refused", "Needs authorization",
    "Healthy · last check failed (1 of 3): connection refused".
    """
    status = connector.status
    label = Connector.Status(status).label if status in Connector.Status.values else status
    if status == Connector.Status.DOWN:
        text = f"Down since {_since(connector.down_since)}" if connector.down_since else "Down"
        return f"{text} — {connector.last_error}" if connector.last_error else text
    if status in (Connector.Status.UNREACHABLE, Connector.Status.MISCONFIGURED):
        return f"{label} — {connector.last_error}" if connector.last_error else label
    if connector.consecutive_failures and connector.last_error:
        return (
            f"{label} · last check failed ({connector.consecutive_failures} of "
            f"{DOWN_AFTER_FAILURES}): {connector.last_error}"
        )
    if status in (Connector.Status.HEALTHY, Connector.Status.DEGRADED):
        parts = [label]
        if connector.last_latency_ms is not None:
            parts.append(f"{connector.last_latency_ms} ms")
        if status == Connector.Status.DEGRADED and connector.last_error:
            parts.append(connector.last_error)
        return " · ".join(parts)
    return label
