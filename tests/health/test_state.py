"""The health state machine: down after three failures, backoff, recovery, audit and email."""

import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.health.outcomes import Outcome, ProbeResult
from orgconnectors.health.results import health_result_record
from orgconnectors.health.transitions import (
    BACKOFF_CAP_SECONDS,
    Health,
    next_check_delay,
    next_health,
)
from tests.factories import ConnectorFactory, MembershipFactory

NOON = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
REFUSED = ProbeResult(Outcome.UNREACHABLE, error="connection refused")
HEALTHY = ProbeResult(Outcome.HEALTHY, latency_ms=120, transport="streamable_http", tools=[])


def test_one_or_two_failures_of_a_working_connector_keep_its_status():
    health = Health("healthy")
    for failures in (1, 2):
        health = next_health(health, Outcome.UNREACHABLE, now=NOON)
        assert health == Health("healthy", failures, None)


def test_the_third_failure_in_a_row_is_down_since_then():
    health = Health("degraded", consecutive_failures=2)

    health = next_health(health, Outcome.MISCONFIGURED, now=NOON)

    assert health == Health("down", 3, NOON)
    later = next_health(health, Outcome.UNREACHABLE, now=NOON + timedelta(hours=1))
    assert later == Health("down", 4, NOON)  # still down since the start


def test_a_connector_never_seen_working_shows_its_failure_at_once():
    assert next_health(Health("unchecked"), Outcome.MISCONFIGURED, now=NOON).status == (
        "misconfigured"
    )
    assert next_health(Health("misconfigured", 1), Outcome.UNREACHABLE, now=NOON).status == (
        "unreachable"
    )


@pytest.mark.parametrize("outcome", [Outcome.HEALTHY, Outcome.DEGRADED, Outcome.AUTH_REQUIRED])
def test_the_first_success_recovers(outcome):
    assert next_health(Health("down", 7, NOON), outcome, now=NOON) == Health(outcome.value)


def test_backoff_doubles_while_failing_with_jitter_and_stays_under_an_hour():
    rng = random.Random(7)
    delays = [next_check_delay(300, failures, rng=rng) for failures in range(0, 12)]

    assert delays[0] == 300  # working: the interval
    assert 225 <= delays[1] <= 300
    for earlier, later in zip(delays[1:4], delays[2:5], strict=True):
        assert later > earlier  # grows
    assert all(delay <= BACKOFF_CAP_SECONDS for delay in delays)
    assert all(delay >= 0.75 * BACKOFF_CAP_SECONDS for delay in delays[6:])  # at the cap
    assert len({round(d, 3) for d in delays[6:]}) > 1  # jittered, not in lockstep


def test_backoff_never_checks_less_often_than_a_long_interval():
    assert next_check_delay(7200, 5, rng=random.Random(1)) <= 7200


@pytest.fixture
def watched(org, owner):
    second_owner = MembershipFactory(organization=org, role="owner", user__email="ops@acme.test")
    connector = ConnectorFactory(organization=org, name="Linear", status="healthy")
    return connector, [owner.user.email, second_owner.user.email]


def record(connector, result, at):
    with time_machine.travel(at, tick=False):
        return health_result_record(connector_id=connector.pk, result=result)


def health_events(connector):
    return list(
        AuditEvent.objects.filter(target_id=str(connector.pk), action="connector.health_changed")
        .order_by("id")
        .values_list("changes", flat=True)
    )


def test_three_failures_make_it_down_audited_and_emailed_once(
    db, watched, eager_celery, django_capture_on_commit_callbacks
):
    connector, owners = watched
    with django_capture_on_commit_callbacks(execute=True):
        record(connector, REFUSED, NOON)
        record(connector, REFUSED, NOON + timedelta(minutes=5))
        assert mail.outbox == [] and health_events(connector) == []
        record(connector, REFUSED, NOON + timedelta(minutes=15))

    connector.refresh_from_db()
    assert connector.status == "down"
    assert connector.down_since == NOON + timedelta(minutes=15)
    assert connector.last_error == "connection refused"
    # The error was already on record from the first failed check.
    assert health_events(connector) == [{"status": {"before": "healthy", "after": "down"}}]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(owners)
    message = mail.outbox[0]
    assert message.subject == "Linear is down"
    assert "failed 3 checks in a row" in message.body
    assert "Last error: connection refused." in message.body
    assert f"/orgs/acme/connectors/{connector.pk}/" in message.body


def test_the_first_success_after_down_recovers_audited_and_emailed(
    db, watched, eager_celery, django_capture_on_commit_callbacks
):
    connector, owners = watched
    Connector.objects.filter(pk=connector.pk).update(
        status="down", consecutive_failures=5, down_since=NOON, last_error="answered HTTP 500"
    )

    with django_capture_on_commit_callbacks(execute=True):
        record(connector, HEALTHY, NOON + timedelta(hours=2))

    connector.refresh_from_db()
    assert (connector.status, connector.consecutive_failures, connector.down_since) == (
        "healthy",
        0,
        None,
    )
    assert connector.last_error == "" and connector.last_latency_ms == 120
    assert health_events(connector)[-1]["status"] == {"before": "down", "after": "healthy"}
    assert [m.subject for m in mail.outbox] == ["Linear is back: Healthy"] * 2


def test_failing_checks_come_back_later_and_later(db, watched):
    connector, _ = watched
    gaps = []
    at = NOON
    for _ in range(8):
        record(connector, REFUSED, at)
        connector.refresh_from_db()
        gaps.append((connector.next_check_at - at).total_seconds())
        at = connector.next_check_at

    assert 225 <= gaps[0] <= 300
    assert gaps[1] > gaps[0] and gaps[2] > gaps[1] and gaps[3] > gaps[2]
    assert max(gaps) <= 3600


def test_a_working_connector_comes_back_after_its_interval(db, watched):
    connector, _ = watched
    Connector.objects.filter(pk=connector.pk).update(check_interval_seconds=120)

    record(connector, HEALTHY, NOON)

    connector.refresh_from_db()
    assert connector.next_check_at == NOON + timedelta(seconds=120)


def test_a_blip_is_neither_audited_nor_emailed(
    db, watched, eager_celery, django_capture_on_commit_callbacks
):
    connector, _ = watched
    with django_capture_on_commit_callbacks(execute=True):
        record(connector, REFUSED, NOON)
        record(connector, HEALTHY, NOON + timedelta(minutes=5))

    assert health_events(connector) == []
    assert mail.outbox == []
    connector.refresh_from_db()
    assert connector.consecutive_failures == 0


def test_a_new_tool_is_audited_and_held_for_review(db, watched):
    connector, _ = watched
    Connector.objects.filter(pk=connector.pk).update(
        discovered_tools=[{"name": "search"}],
        approved_tools=[{"name": "search"}],
        tool_listing_version=1,
    )
    result = ProbeResult(Outcome.HEALTHY, tools=[{"name": "search"}, {"name": "delete_issue"}])

    record(connector, result, NOON)

    connector.refresh_from_db()
    assert [t["name"] for t in connector.discovered_tools] == ["search", "delete_issue"]
    event = AuditEvent.objects.get(action="connector.tools_drifted")
    assert event.changes["delete_issue"]["after"]["kind"] == "new"
    assert list(connector.tool_changes.values_list("tool_name", "kind", "state")) == [
        ("delete_issue", "new", "pending")
    ]


def test_the_first_complete_listing_is_trusted_on_first_use(db, watched):
    connector, _ = watched
    result = ProbeResult(Outcome.HEALTHY, tools=[{"name": "search"}])

    record(connector, result, NOON)

    connector.refresh_from_db()
    assert connector.tool_listing_version == 1
    assert connector.approved_tools == [{"name": "search"}]
    event = AuditEvent.objects.get(action="connector.tools_approved")
    assert event.changes["reason"]["after"] == "Trusted on first use"


def test_a_partial_check_keeps_the_tools_known_before(db, watched):
    connector, _ = watched
    Connector.objects.filter(pk=connector.pk).update(discovered_tools=[{"name": "search"}])
    partial = ProbeResult(Outcome.DEGRADED, error="listing tools failed: timed out after 10 s")

    record(connector, partial, NOON)

    connector.refresh_from_db()
    assert connector.discovered_tools == [{"name": "search"}]
    assert connector.status == "degraded"
    assert not AuditEvent.objects.filter(action__startswith="connector.tools_").exists()


def test_the_check_and_the_connector_share_one_timestamp(db, watched):
    connector, _ = watched

    check = health_result_record(connector_id=connector.pk, result=HEALTHY)

    assert check.checked_at == Connector.objects.get(pk=connector.pk).last_checked_at
