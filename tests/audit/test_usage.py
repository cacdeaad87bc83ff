"""Usage events: recorded after the cause commits, counted per day, shown on the usage page."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from orgconnectors.audit.models import UsageDay, UsageEvent
from orgconnectors.audit.usage import ROLLUP_LAG, usage_record, usage_record_many, usage_rollup
from orgconnectors.connectors.models import Connection
from orgconnectors.health.models import HealthCheck, HealthDailyRollup
from orgconnectors.health.outcomes import Outcome, ProbeResult
from orgconnectors.health.results import health_result_record
from orgconnectors.reports.usage_selectors import usage_overview
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
Kind = UsageEvent.Kind


def record(org, kind=Kind.CONFIGURATION, *, at=NOON, **refs):
    """One usage event at `at`, written as after a commit."""
    with time_machine.travel(at, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        usage_record(organization=org, kind=kind, **refs)


def test_inside_a_transaction_the_event_is_written_after_the_commit(
    org, member, django_capture_on_commit_callbacks
):
    docs = ConnectorFactory(organization=org)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            usage_record(
                organization=org,
                kind="authorization",
                user=member.user,
                connector=docs,
                ip="2001:DB8::1",
                details={"scope": "read"},
            )
            assert not UsageEvent.objects.exists()

    assert len(callbacks) == 1
    event = UsageEvent.objects.get()
    assert (event.organization_id, event.kind, event.user_id, event.connector_id) == (
        org.pk,
        "authorization",
        member.user_id,
        docs.pk,
    )
    assert (event.ip, event.details) == ("2001:db8::1", {"scope": "read"})


def test_work_that_rolls_back_records_no_usage(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            usage_record(organization=org, kind="configuration")
            raise RuntimeError("the request failed")

    assert not UsageEvent.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_it_is_one_insert_that_does_not_wait_for_the_disk():
    from tests.factories import OrganizationFactory

    org = OrganizationFactory()
    connectors = [ConnectorFactory(organization=org) for _ in range(10)]

    with CaptureQueriesContext(connection) as queries:
        usage_record_many(organization=org, kind="configuration", connectors=connectors)

    # One INSERT of the ten events (one per connector named in one configuration), in a
    # transaction of its own that does not wait for the disk.
    statements = [q["sql"] for q in queries.captured_queries]
    assert statements[1:3] == ["SET LOCAL synchronous_commit TO OFF", statements[2]]
    assert [s.split()[0] for s in statements] == ["BEGIN", "SET", "INSERT", "COMMIT"]
    assert statements[2].count("), (") == 9

    assert UsageEvent.objects.filter(organization_id=org.pk).count() == 10


def test_a_failed_insert_after_the_commit_does_not_fail_the_request(
    org, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broken(events):
        raise ConnectionError("the database went away")

    monkeypatch.setattr("orgconnectors.audit.usage._insert", broken)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        usage_record(organization=org, kind="configuration")

    assert "the database went away" in caplog.text


def test_an_unknown_kind_is_refused_at_the_call(org):
    with pytest.raises(ValueError):
        usage_record(organization=org, kind="configuration_handout")


def test_a_health_change_is_a_usage_event(org, django_capture_on_commit_callbacks):
    connector = ConnectorFactory(organization=org, status="unchecked")

    with django_capture_on_commit_callbacks(execute=True):
        health_result_record(
            connector_id=connector.pk, result=ProbeResult(Outcome.HEALTHY, latency_ms=80)
        )
        # The same status again is no change.
        health_result_record(
            connector_id=connector.pk, result=ProbeResult(Outcome.HEALTHY, latency_ms=90)
        )

    event = UsageEvent.objects.get()
    assert (event.kind, event.connector_id) == ("health", connector.pk)
    assert event.details == {"before": "unchecked", "after": "healthy"}


def test_the_rollup_counts_each_event_once(org, member):
    docs = ConnectorFactory(organization=org)
    for hours in (0, 1, 25):
        record(org, user=member.user, connector=docs, at=NOON - timedelta(hours=hours))
    record(org, Kind.HEALTH, connector=docs, at=NOON)

    assert usage_rollup(now=NOON + ROLLUP_LAG + timedelta(seconds=1)) > 0
    usage_rollup(now=NOON + ROLLUP_LAG + timedelta(seconds=2))  # nothing new: counts nothing
    record(org, user=member.user, connector=docs, at=NOON + timedelta(minutes=1))
    usage_rollup(now=NOON + timedelta(minutes=1) + ROLLUP_LAG + timedelta(seconds=1))

    rows = set(UsageDay.objects.values_list("dimension", "day", "key", "kind", "count"))
    today, yesterday = NOON.date(), NOON.date() - timedelta(days=1)
    assert rows == {
        ("connector", today, docs.pk, "configuration", 3),
        ("connector", yesterday, docs.pk, "configuration", 1),
        ("connector", today, docs.pk, "health", 1),
        ("member", today, member.user_id, "configuration", 3),
        ("member", yesterday, member.user_id, "configuration", 1),
    }


def test_the_rollup_leaves_the_newest_events_for_the_next_run(org):
    record(org, at=NOON)

    usage_rollup(now=NOON + ROLLUP_LAG - timedelta(seconds=1))

    assert not UsageDay.objects.exists()


@pytest.mark.parametrize("rolled", [False, True])
def test_the_overview_is_the_same_before_and_after_the_rollup(org, member, owner, rolled):
    docs = ConnectorFactory(organization=org, name="Docs")
    wiki = ConnectorFactory(organization=org, name="Wiki")
    other = MembershipFactory(organization=org, user__email="zed@acme.test")
    for day in range(3):
        record(org, user=member.user, connector=docs, at=NOON - timedelta(days=day))
    record(org, user=other.user, connector=wiki, at=NOON)
    record(org, Kind.HEALTH, connector=wiki, at=NOON - timedelta(days=1))
    record(org, user=member.user, connector=docs, at=NOON - timedelta(days=40))  # too old
    if rolled:
        usage_rollup(now=NOON + ROLLUP_LAG + timedelta(seconds=1))

    overview = usage_overview(organization=org, days=7, now=NOON + timedelta(hours=1))

    assert overview.days[-1] == NOON.date() and len(overview.days) == 7
    series = {s.label: s.counts for s in overview.by_connector}
    assert series == {"Docs": [0, 0, 0, 0, 1, 1, 1], "Wiki": [0, 0, 0, 0, 0, 1, 1]}
    members = {s.label: s.total for s in overview.by_member}
    assert members == {"member@acme.test": 3, "zed@acme.test": 1}
    assert [(s.label, s.total) for s in overview.top_connectors] == [("Docs", 3), ("Wiki", 2)]
    assert overview.by_kind["configuration"] == 4 and overview.by_kind["health"] == 1

    kinds = usage_overview(organization=org, days=7, kind="health", now=NOON + timedelta(hours=1))
    assert {s.label: s.total for s in kinds.by_connector} == {"Wiki": 1}


def test_the_overview_keeps_the_top_connectors_and_sums_the_rest(org):
    connectors = [ConnectorFactory(organization=org, name=f"C{n}") for n in range(9)]
    for n, connector in enumerate(connectors):
        for _ in range(n + 1):
            record(org, connector=connector)

    overview = usage_overview(organization=org, days=1, now=NOON)

    labels = [s.label for s in overview.by_connector]
    assert labels == ["C8", "C7", "C6", "C5", "C4", "C3", "Other connectors"]
    assert overview.by_connector[-1].total == 1 + 2 + 3


def test_the_overview_counts_connections_against_the_plan_limit(org, owner, member, plan):
    org.plan = plan("pro")  # 5 connections per member
    org.save()
    connectors = [ConnectorFactory(organization=org) for _ in range(5)]
    for connector in connectors:
        ConnectionFactory(membership=member, connector=connector)
    ConnectionFactory(membership=owner, connector=connectors[0], state=Connection.State.SUSPENDED)
    MembershipFactory(organization=org, role="auditor")  # holds no connections

    overview = usage_overview(organization=org, days=7, now=NOON)

    assert (overview.members, overview.limit, overview.capacity) == (2, 5, 10)
    assert (overview.connections_in_use, overview.members_at_limit) == (5, 1)
    assert {c.label: c.members_connected for c in overview.connectors} == {
        c.name: 1 for c in connectors
    }


def test_the_overview_adds_folded_and_recent_health_checks(org):
    docs = ConnectorFactory(organization=org, name="Docs")
    ConnectorFactory(organization=org, name="Never checked")
    HealthDailyRollup.objects.create(
        connector=docs, day=NOON.date() - timedelta(days=10), checks=100, up_checks=99
    )
    for outcome in ("healthy", "healthy", "unreachable", "degraded"):
        HealthCheck.objects.create(
            connector=docs, organization=org, checked_at=NOON, outcome=outcome
        )

    overview = usage_overview(organization=org, days=30, now=NOON)

    uptime = {c.label: (c.checks, c.uptime_percent) for c in overview.connectors}
    assert uptime == {"Docs": (104, pytest.approx(100 * 102 / 104)), "Never checked": (0, None)}


def test_the_overview_asks_as_many_queries_for_many_rows_as_for_few(org, member):
    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            usage_overview(organization=org, days=30, now=NOON)
        return len(queries)

    few = measure()
    for n in range(20):
        connector = ConnectorFactory(organization=org)
        person = MembershipFactory(organization=org)
        ConnectionFactory(membership=person, connector=connector)
        record(org, user=person.user, connector=connector, at=NOON - timedelta(days=n))
    usage_rollup(now=NOON - timedelta(days=5))

    assert measure() == few
