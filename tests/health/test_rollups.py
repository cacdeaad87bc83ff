"""A week of individual checks, then one row per connector and day."""

from datetime import UTC, date, datetime, timedelta

import time_machine

from orgconnectors.health.models import HealthCheck, HealthDailyRollup, HealthRun
from orgconnectors.health.rollups import health_checks_rollup, percentile
from orgconnectors.health.selectors import connector_health_days
from tests.factories import ConnectorFactory

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def add_check(connector, at, outcome="healthy", latency_ms=100):
    return HealthCheck.objects.create(
        connector=connector,
        organization_id=connector.organization_id,
        checked_at=at,
        outcome=outcome,
        latency_ms=latency_ms if outcome != "unreachable" else None,
    )


def test_percentile_uses_the_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50, 95)
    assert percentile([7], 0.95) == 7
    assert percentile([], 0.5) is None


def test_checks_older_than_a_week_become_daily_rollups(db, org):
    connector = ConnectorFactory(organization=org)
    old_day = datetime(2026, 11, 10, tzinfo=UTC)
    for minute, latency in enumerate([100, 200, 300, 400]):
        add_check(connector, old_day + timedelta(hours=minute), latency_ms=latency)
    add_check(connector, old_day + timedelta(hours=5), outcome="auth_required", latency_ms=50)
    add_check(connector, old_day + timedelta(hours=6), outcome="unreachable")
    recent = add_check(connector, NOW - timedelta(days=3))

    with time_machine.travel(NOW, tick=False):
        folded = health_checks_rollup()

    assert folded == 1
    rollup = HealthDailyRollup.objects.get(connector=connector)
    assert (rollup.day, rollup.checks, rollup.up_checks) == (date(2026, 11, 10), 6, 5)
    assert round(rollup.uptime_percent, 2) == 83.33
    assert (rollup.p50_latency_ms, rollup.p95_latency_ms) == (200, 400)
    assert list(HealthCheck.objects.all()) == [recent]


def test_the_last_seven_whole_days_keep_their_checks(db, org):
    connector = ConnectorFactory(organization=org)
    kept = add_check(connector, datetime(2026, 11, 13, 0, 5, tzinfo=UTC))  # within 7 days
    add_check(connector, datetime(2026, 11, 12, 23, 55, tzinfo=UTC))  # the day before: folded

    with time_machine.travel(NOW, tick=False):
        health_checks_rollup()

    assert list(HealthCheck.objects.all()) == [kept]


def test_running_the_rollup_twice_changes_nothing_more(db, org):
    connector = ConnectorFactory(organization=org)
    add_check(connector, datetime(2026, 11, 1, 8, tzinfo=UTC))

    with time_machine.travel(NOW, tick=False):
        health_checks_rollup()
        assert health_checks_rollup() == 0

    assert HealthDailyRollup.objects.get(connector=connector).checks == 1


def test_old_runs_are_removed(db, org):
    with time_machine.travel(NOW - timedelta(days=10), tick=False):
        HealthRun.objects.create(organization=org, kind="all", total=1, done=1)
    with time_machine.travel(NOW, tick=False):
        fresh = HealthRun.objects.create(organization=org, kind="all", total=1, done=0)
        health_checks_rollup()

    assert list(HealthRun.objects.all()) == [fresh]


def test_health_days_join_rollups_and_recent_checks(db, org):
    connector = ConnectorFactory(organization=org)
    HealthDailyRollup.objects.create(
        connector=connector, day=date(2026, 11, 5), checks=288, up_checks=144, p50_latency_ms=90
    )
    add_check(connector, datetime(2026, 11, 19, 9, tzinfo=UTC), latency_ms=80)
    add_check(connector, datetime(2026, 11, 19, 10, tzinfo=UTC), outcome="unreachable")

    days = connector_health_days(connector=connector, days=30, now=NOW)

    assert [(d.day, d.checks, d.uptime_percent, d.p50_latency_ms) for d in days] == [
        (date(2026, 11, 19), 2, 50.0, 80),
        (date(2026, 11, 5), 288, 50.0, 90),
    ]
