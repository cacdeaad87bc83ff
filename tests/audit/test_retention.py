"""The nightly purge removes what is older than the plan's retention, and only that."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import TestCase

from orgconnectors.audit.chain import audit_chain_verify, chain_seal
from orgconnectors.audit.errors import RetentionError
from orgconnectors.audit.models import AuditChainHead, AuditEvent, UsageDay, UsageEvent
from orgconnectors.audit.retention import audit_retention_purge
from orgconnectors.audit.usage import usage_record, usage_rollup
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.organization_settings import organization_settings_update

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def at(write_event):
    """at(days_ago, ...) writes an audit event that many days before NOW."""

    def write(days_ago: float, *, organization=None, action="connector.updated"):
        with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
            return write_event(action, organization=organization)

    return write


def usage_at(organization, days_ago: float):
    when = NOW - timedelta(days=days_ago)
    with time_machine.travel(when, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        usage_record(organization=organization, kind="configuration")


def test_the_plans_keep_the_documented_number_of_days(plan, org):
    assert {code: plan(code).audit_retention_days for code in ("free", "pro", "max", "team")} == {
        "free": 30,
        "pro": 90,
        "max": 90,
        "team": 365,
    }
    assert plan("enterprise").audit_retention_days == 365
    assert org.audit_retention == 365  # Acme is on Team


def test_it_removes_only_what_is_older_than_the_retention(org, other_org, plan, at):
    org.plan = plan("free")  # 30 days
    org.save()
    old = [at(45), at(31)]
    kept = [at(29), at(1)]
    theirs = at(45, organization=other_org)  # Team: a year
    for days in (45, 31, 29):
        usage_at(org, days)
    usage_rollup(now=NOW)

    purged = audit_retention_purge(now=NOW)

    assert (purged.audit_events, purged.usage_events) == (2, 2)
    remaining = list(AuditEvent.objects.filter(organization=org).order_by("id"))
    assert [e.pk for e in remaining[:2]] == [e.pk for e in kept]
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEvent.objects.filter(pk=theirs.pk).exists()
    assert UsageEvent.objects.filter(organization_id=org.pk).count() == 1
    assert not UsageDay.objects.filter(organization_id=org.pk, day__lt=(NOW - timedelta(30)).date())


def test_the_purge_is_audited_with_its_counts(org, plan, at):
    org.plan = plan("free")
    org.save()
    at(40)
    usage_at(org, 40)

    audit_retention_purge(now=NOW)

    event = AuditEvent.objects.get(organization=org, action="audit.purged")
    assert event.actor_label == "retention purge"
    assert event.changes["audit_events_removed"]["after"] == 1
    assert event.changes["usage_events_removed"]["after"] == 1
    assert event.changes["retention_days"]["after"] == 30


def test_the_remaining_chain_still_verifies(org, plan, at):
    org.plan = plan("free")
    org.save()
    removed = [at(days) for days in (50, 40, 35)]
    for days in (20, 10):
        at(days)

    audit_retention_purge(now=NOW, batch_size=2)

    head = AuditChainHead.objects.get(organization=org)
    assert (head.purged_through_id, head.purged_through_hash) == (removed[-1].pk, removed[-1].hash)
    report = audit_chain_verify(organization=org)
    # Two kept, and audit.purged waiting for the sealer its commit runs.
    assert (report.intact, report.events, report.unsealed) == (True, 2, 1)
    chain_seal(organization_id=org.pk)
    report = audit_chain_verify(organization=org)
    assert (report.intact, report.events, report.unsealed) == (True, 3, 0)


def test_nothing_due_means_nothing_removed_and_nothing_recorded(org, at):
    at(10)

    assert not audit_retention_purge(now=NOW).anything
    assert not audit_retention_purge(now=NOW).anything  # and twice is harmless

    assert not AuditEvent.objects.filter(action="audit.purged").exists()


def test_an_event_out_of_order_in_time_stops_the_purge_there(org, plan, at):
    # Clocks go backwards: the chain (by id) must lose only a prefix, or it would break.
    org.plan = plan("free")
    org.save()
    first, newer, older_again = at(40), at(5), at(40)

    audit_retention_purge(now=NOW)

    assert not AuditEvent.objects.filter(pk=first.pk).exists()
    assert AuditEvent.objects.filter(pk__in=[newer.pk, older_again.pk]).count() == 2
    assert audit_chain_verify(organization=org).intact


def test_an_enterprise_organization_sets_its_own_retention(org, plan, at):
    org.plan = plan("enterprise")
    org.save()
    at(10)

    organization_settings_update(
        organization=org, audit_retention_days=7, actor=Actor.system("tests")
    )
    audit_retention_purge(now=NOW)

    assert org.audit_retention == 7
    change = AuditEvent.objects.get(action="organization.audit_retention_changed")
    assert change.changes == {"audit_retention_days": {"before": 365, "after": 7}}
    assert not AuditEvent.objects.filter(action="connector.updated").exists()


def test_other_plans_cannot_set_their_own_retention(org):
    with pytest.raises(RetentionError, match="only Enterprise organizations"):
        organization_settings_update(
            organization=org, audit_retention_days=7, actor=Actor.system("tests")
        )


@pytest.mark.parametrize("days", [0, 3651])
def test_a_retention_out_of_range_is_refused(org, plan, days):
    org.plan = plan("enterprise")
    org.save()

    with pytest.raises(RetentionError, match="between 1 and 3650 days"):
        organization_settings_update(
            organization=org, audit_retention_days=days, actor=Actor.system("tests")
        )


def test_the_commands(org, plan):
    org.plan = plan("enterprise")
    org.save()
    out = StringIO()

    call_command("set_audit_retention", "acme", "--days", "60", stdout=out)
    call_command("purge_audit", stdout=out)

    assert "Acme keeps audit and usage events for 60 days." in out.getvalue()
    assert "Removed 0 audit events, 0 usage events and 0 daily usage counts." in out.getvalue()
    with pytest.raises(CommandError, match="no organization 'nope'"):
        call_command("set_audit_retention", "nope", "--days", "60")
