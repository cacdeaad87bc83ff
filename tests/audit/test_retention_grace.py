"""A plan change that shortens retention keeps older events for a grace period, then lets the
purge remove them; owners and auditors are told until when."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.plan_change import organization_change_plan, plan_change_preview
from orgconnectors.reports.retention import audit_retention_purge

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
OPERATOR = Actor.system("operator (tests)")


@pytest.fixture
def at(write_event):
    def write(days_ago: float):
        with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
            return write_event("connector.updated")

    return write


@pytest.fixture
def moved_to_pro(org, plan, at):
    """Acme, on Team (a year), moved to Pro (90 days) at NOW; events 200 and 10 days old."""
    events = {"old": at(200), "recent": at(10)}
    with time_machine.travel(NOW, tick=False):
        organization_change_plan(organization=org, plan=plan("pro"), actor=OPERATOR)
    org.refresh_from_db()
    return events


def exists(event) -> bool:
    return AuditEvent.objects.filter(pk=event.pk).exists()


def test_events_the_old_plan_kept_stay_through_the_grace_period(org, moved_to_pro, settings):
    assert settings.ORGCONNECTORS_RETENTION_GRACE_DAYS == 30
    assert org.audit_retention == 90
    assert org.audit_retention_grace_until == NOW + timedelta(days=30)

    audit_retention_purge(now=NOW + timedelta(days=1))
    audit_retention_purge(now=NOW + timedelta(days=29))

    assert exists(moved_to_pro["old"]) and exists(moved_to_pro["recent"])


def test_the_purge_removes_them_once_the_grace_period_is_over(org, moved_to_pro):
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        audit_retention_purge()

    assert not exists(moved_to_pro["old"])
    assert exists(moved_to_pro["recent"])
    purged = AuditEvent.objects.get(organization=org, action="audit.purged")
    assert purged.changes["retention_days"]["after"] == 90


def test_the_plan_change_records_the_grace_in_the_trail(org, moved_to_pro):
    event = AuditEvent.objects.get(organization=org, action="organization.plan_changed")

    assert event.actor_label == "operator (tests)"
    assert event.changes["audit_retention_days"] == {"before": 365, "after": 90}
    assert event.changes["older_events_kept_until"] == {
        "before": None,
        "after": (NOW + timedelta(days=30)).isoformat(),
    }


def test_the_grace_period_is_a_setting(org, plan, at, settings):
    settings.ORGCONNECTORS_RETENTION_GRACE_DAYS = 0
    old = at(200)
    with time_machine.travel(NOW, tick=False):
        organization_change_plan(organization=org, plan=plan("pro"), actor=OPERATOR)
    org.refresh_from_db()

    audit_retention_purge(now=NOW + timedelta(hours=1))

    assert org.audit_retention_grace_until is None
    assert not exists(old)


def test_a_longer_retention_ends_the_grace(org, plan, moved_to_pro):
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        organization_change_plan(organization=org, plan=plan("team"), actor=OPERATOR)
    org.refresh_from_db()

    assert (org.audit_retention_grace_days, org.audit_retention_grace_until) == (None, None)
    assert org.audit_retention == 365


def test_a_second_shortening_keeps_the_longest_retention_for_a_new_grace(org, plan, moved_to_pro):
    later = NOW + timedelta(days=10)
    with time_machine.travel(later, tick=False):
        organization_change_plan(organization=org, plan=plan("free"), actor=OPERATOR)
    org.refresh_from_db()

    assert org.audit_retention_grace_days == 365
    assert org.audit_retention_grace_until == later + timedelta(days=30)
    audit_retention_purge(now=later + timedelta(days=1))
    assert exists(moved_to_pro["old"])


def test_the_preview_tells_the_owner_before_anything_changes(org, plan):
    with time_machine.travel(NOW, tick=False):
        preview = plan_change_preview(organization=org, plan=plan("pro"))

    assert (preview.old_retention, preview.new_retention) == (365, 90)
    assert preview.retention_grace_until == NOW + timedelta(days=30)
    org.refresh_from_db()
    assert org.audit_retention_grace_until is None


@pytest.mark.parametrize("who, page", [("owner", "plan"), ("auditor", "audit_list")])
def test_owners_and_auditors_read_until_when_older_events_are_kept(
    who, page, owner, auditor, moved_to_pro
):
    client = Client()
    client.force_login({"owner": owner, "auditor": auditor}[who].user)

    with time_machine.travel(NOW + timedelta(days=1)):
        html = client.get(reverse(page, args=["acme"])).content.decode()

    assert (
        "Events older than 90 days are kept until 5 January 2027 because the plan changed"
    ) in html
