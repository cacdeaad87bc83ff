"""Individual checks are kept for a while, then folded into one row per connector and day."""

import math
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orgconnectors.health.models import HealthCheck, HealthDailyRollup, HealthRun
from orgconnectors.health.outcomes import UP, Outcome


def percentile(sorted_values: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile of an ascending list; None for an empty one."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _day_bounds(day) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _fold_day(day) -> int:
    """Fold one UTC day's checks into rollups and delete them, in one transaction."""
    start, end = _day_bounds(day)
    with transaction.atomic():
        checks = HealthCheck.objects.select_for_update().filter(
            checked_at__gte=start, checked_at__lt=end
        )
        counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        latencies: dict[int, list[int]] = defaultdict(list)
        for connector_id, outcome, latency_ms in checks.values_list(
            "connector_id", "outcome", "latency_ms"
        ):
            up = Outcome(outcome) in UP
            counts[connector_id][0] += 1
            counts[connector_id][1] += up
            if up and latency_ms is not None:
                latencies[connector_id].append(latency_ms)
        existing = {
            r.connector_id: r
            for r in HealthDailyRollup.objects.select_for_update().filter(
                day=day, connector_id__in=counts
            )
        }
        for connector_id, (total, up) in counts.items():
            values = sorted(latencies[connector_id])
            rollup = existing.get(connector_id) or HealthDailyRollup(
                connector_id=connector_id, day=day, checks=0, up_checks=0
            )
            # Checks recorded late for a day already folded add to its counts.
            rollup.checks += total
            rollup.up_checks += up
            rollup.p50_latency_ms = percentile(values, 0.50) or rollup.p50_latency_ms
            rollup.p95_latency_ms = percentile(values, 0.95) or rollup.p95_latency_ms
            rollup.save()
        checks.delete()
    return len(counts)


def health_checks_rollup(*, now: datetime | None = None, keep_days: int | None = None) -> int:
    """Fold every whole UTC day older than the retention; returns the connector-days folded."""
    now = now or timezone.now()
    keep_days = settings.ORGCONNECTORS_HEALTH_HISTORY_DAYS if keep_days is None else keep_days
    cutoff, _ = _day_bounds((now - timedelta(days=keep_days)).astimezone(UTC).date())
    folded = 0
    while True:
        oldest = (
            HealthCheck.objects.filter(checked_at__lt=cutoff)
            .order_by("checked_at")
            .values_list("checked_at", flat=True)
            .first()
        )
        if oldest is None:
            break
        folded += _fold_day(oldest.astimezone(UTC).date())
    # Progress of "Check all" only matters while someone watches it.
    HealthRun.objects.filter(created_at__lt=cutoff).delete()
    return folded
