"""Tool calls through the gateway on the usage page and in the API: counts, errors and
percentiles per connector, member and tool, computed by the database."""

from datetime import timedelta
from statistics import quantiles

import pytest
from django.urls import reverse
from django.utils import timezone

from orgconnectors.audit.models import UsageEvent
from orgconnectors.reports.tool_call_stats import tool_call_overview
from tests.api.conftest import token_client
from tests.factories import ConnectorFactory
from tests.responses import api_error

ACME = "/api/v1/orgs/acme"


def call(org, *, connector, member, tool, outcome="ok", duration_ms=10.0, days_ago=0):
    return UsageEvent.objects.create(
        organization=org,
        kind="tool_call",
        user_id=member.user_id,
        connector=connector,
        created_at=timezone.now() - timedelta(days=days_ago),
        details={
            "tool": tool,
            "outcome": outcome,
            "client_name": "pytest",
            "client_version": "1",
            "duration_ms": duration_ms,
            "request_bytes": 10,
            "response_bytes": 20,
        },
    )


@pytest.fixture
def calls(org, member, owner):
    tracker = ConnectorFactory(organization=org, name="Tracker")
    wiki = ConnectorFactory(organization=org, name="Wiki")
    durations = [float(ms) for ms in range(1, 101)]
    for ms in durations:
        call(org, connector=tracker, member=member, tool="search", duration_ms=ms)
    call(
        org, connector=tracker, member=owner, tool="delete_issue", outcome="denied", duration_ms=0.4
    )
    call(org, connector=wiki, member=member, tool="read", outcome="tool_error", duration_ms=300.0)
    call(org, connector=wiki, member=member, tool="read", days_ago=40)  # outside 30 days
    return tracker, wiki, durations


def test_percentiles_per_connector_are_the_databases_and_match_the_definition(org, calls):
    tracker, _wiki, durations = calls

    overview = tool_call_overview(organization=org, days=30)

    by_label = {s.label: s for s in overview.by_connector}
    cuts = quantiles([*durations, 0.4], n=100, method="inclusive")
    assert by_label["Tracker"].calls == 101
    assert by_label["Tracker"].p50_ms == round(cuts[49], 1)
    assert by_label["Tracker"].p95_ms == round(cuts[94], 1)
    assert by_label["Tracker"].denied == 1
    assert by_label["Wiki"].calls == 1  # the call of 40 days ago is outside the period
    assert by_label["Wiki"].errors == 1
    assert overview.total.calls == 102


def test_calls_are_counted_per_member_and_per_tool_and_by_outcome_per_day(org, calls):
    overview = tool_call_overview(organization=org, days=7)

    assert [(s.label, s.calls) for s in overview.by_member] == [
        ("member@acme.test", 101),
        ("owner@acme.test", 1),
    ]
    assert [(s.label, s.calls) for s in overview.by_tool] == [
        ("Tracker · search", 100),
        ("Tracker · delete_issue", 1),
        ("Wiki · read", 1),
    ]
    totals = {series.outcome: series.total for series in overview.by_outcome}
    assert totals == {"ok": 100, "tool_error": 1, "denied": 1}
    assert len(overview.days) == 7


def test_one_connector_can_be_looked_at_alone(org, calls):
    tracker, _wiki, _ = calls

    overview = tool_call_overview(organization=org, days=30, connector_id=tracker.pk)

    assert [s.label for s in overview.by_connector] == ["Tracker"]


def test_auditors_read_tool_calls_through_the_api(auditor, actor, calls):
    reader = token_client(auditor, actor=actor)

    body = reader.get(ACME + "/usage/tool-calls", {"days": 30}).json()

    assert body["total"]["calls"] == 102
    assert body["by_connector"][0]["label"] == "Tracker"
    assert {series["outcome"] for series in body["by_outcome"]} == {"ok", "tool_error", "denied"}


def test_members_cannot_read_tool_calls_and_a_foreign_connector_is_not_found(
    member, auditor, actor, other_org, calls
):
    foreign = ConnectorFactory(organization=other_org, name="Theirs")
    as_member = token_client(member, actor=actor)
    as_auditor = token_client(auditor, actor=actor)

    assert as_member.get(ACME + "/usage/tool-calls").status_code == 403
    missing = as_auditor.get(ACME + "/usage/tool-calls", {"connector": foreign.pk})
    assert missing.status_code == 404
    wrong = as_auditor.get(ACME + "/usage/tool-calls", {"days": 12})
    assert wrong.status_code == 400
    assert api_error(wrong)["detail"]


def test_the_tool_calls_page_shows_each_table_and_the_empty_state(client, org, auditor, calls):
    client.force_login(auditor.user)

    page = client.get(reverse("usage_tool_calls", args=["acme"])).content.decode()

    assert "Tracker · search" in page
    assert "Per member" in page
    assert "kind=tool_call" in page  # the export links take exactly these calls
    UsageEvent.objects.filter(kind="tool_call").delete()
    empty = client.get(reverse("usage_tool_calls", args=["acme"])).content.decode()
    assert "No tool call went through the gateway in this period." in empty


def test_a_bad_period_on_the_page_is_a_400_that_says_so(client, auditor):
    client.force_login(auditor.user)

    response = client.get(reverse("usage_tool_calls", args=["acme"]), {"days": "12"})

    assert response.status_code == 400
    assert "Choose a period listed." in response.content.decode()
