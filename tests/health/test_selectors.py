"""Reads for the pages: run progress, history, and the health line owners see."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.http import Http404
from django.utils import timezone

from orgconnectors.connectors.models import Connector
from orgconnectors.health.models import HealthCheck, HealthRun
from orgconnectors.health.selectors import (
    connector_health_history,
    connector_last_check,
    health_line,
    health_run_progress,
)
from tests.factories import ConnectorFactory


def test_a_run_of_another_organization_is_not_found(db, org, other_org):
    theirs = HealthRun.objects.create(organization=other_org, kind="all", total=2)

    with pytest.raises(Http404):
        health_run_progress(organization=org, run_id=theirs.pk)
    with pytest.raises(Http404):
        health_run_progress(organization=org, run_id="not-a-number")


def test_run_progress_counts_in_percent(db, org):
    run = HealthRun.objects.create(organization=org, kind="all", total=3, done=1)

    progress = health_run_progress(organization=org, run_id=run.pk)

    assert (progress.percent, progress.finished) == (33, False)


def test_history_is_newest_first_and_the_last_check_carries_oauth_metadata(db, org):
    connector = ConnectorFactory(organization=org)
    now = timezone.now()
    for minutes, outcome in ((10, "healthy"), (5, "auth_required")):
        HealthCheck.objects.create(
            connector=connector,
            organization=org,
            checked_at=now - timedelta(minutes=minutes),
            outcome=outcome,
            oauth={"scope": "read"} if outcome == "auth_required" else {},
        )

    history = connector_health_history(connector=connector, limit=1)

    assert [c.outcome for c in history] == ["auth_required"]
    assert connector_last_check(connector=connector).oauth == {"scope": "read"}


def make(**fields):
    return Connector(name="Linear", url="https://mcp.linear.app/mcp", **fields)


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"status": "healthy", "last_latency_ms": 120}, "Healthy · 120 ms"),
        ({"status": "unchecked"}, "Not checked yet"),
        ({"status": "auth_required"}, "Needs authorization"),
        (
            {"status": "degraded", "last_latency_ms": 2400, "last_error": "slow: 2.4 s"},
            "Degraded · 2400 ms · slow: 2.4 s",
        ),
        (
            {"status": "misconfigured", "last_error": "not an MCP server: answered text/html"},
            "Misconfigured — not an MCP server: answered text/html",
        ),
        (
            {"status": "healthy", "consecutive_failures": 1, "last_error": "connection refused"},
            "Healthy · last check failed (1 of 3): connection refused",
        ),
        (
            {
                "status": "down",
                "down_since": datetime(2026, 11, 2, 9, 14, tzinfo=UTC),
                "last_error": "connection refused",
            },
            "Down since 09:14 — connection refused",
        ),
        (
            {
                "status": "down",
                "down_since": datetime(2026, 11, 1, 23, 50, tzinfo=UTC),
                "last_error": "connection refused",
            },
            "Down since Nov 1, 23:50 — connection refused",
        ),
    ],
)
def test_health_line_says_it_in_words(fields, words):
    with time_machine.travel(datetime(2026, 11, 2, 15, 0, tzinfo=UTC), tick=False):
        assert health_line(make(**fields)) == words
