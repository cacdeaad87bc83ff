"""A plan change racing a member's connect must not leave the member over the new limit."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.errors import ConnectionLimitReached
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations import plan_change
from orgconnectors.organizations.plan_change import organization_change_plan
from tests.factories import (
    ConnectionFactory,
    ConnectorFactory,
    MembershipFactory,
    OrganizationFactory,
)


def wait_until_a_query_waits_for_a_lock(timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError("the connect never waited for the plan change's locks")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_connect_waiting_on_a_downgrade_is_judged_by_the_new_limit(
    plan, actor, run_concurrently, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("watches PostgreSQL's lock waits")
    org = OrganizationFactory(plan=plan("enterprise"), connection_limit_override=5)
    owner = MembershipFactory(organization=org, role="owner")
    member = MembershipFactory(organization=org)
    for minutes in (10, 20, 30, 40):
        ConnectionFactory(membership=member, enabled_at=timezone.now() - timedelta(minutes=minutes))
    fifth = ConnectorFactory(organization=org)

    # Hold the plan change open, its locks taken and its writes done, until the connect waits.
    holding, release = threading.Event(), threading.Event()
    real_audit_record = plan_change.audit_record

    def audit_record_then_hold(**kwargs):
        event = real_audit_record(**kwargs)
        holding.set()
        assert release.wait(timeout=10)
        return event

    monkeypatch.setattr(plan_change, "audit_record", audit_record_then_hold)

    def downgrade():
        return organization_change_plan(
            organization=org, plan=plan("enterprise"), limit_override=2, actor=actor(owner)
        )

    def connect():
        assert holding.wait(timeout=10)
        return connection_enable(membership=member, connector=fifth, actor=actor(member))

    def referee():
        assert holding.wait(timeout=10)
        wait_until_a_query_waits_for_a_lock()
        release.set()

    outcomes = run_concurrently(downgrade, connect, referee)

    assert not isinstance(outcomes[0], BaseException), outcomes[0]
    assert isinstance(outcomes[1], ConnectionLimitReached), outcomes[1]
    assert outcomes[1].limit == 2
    assert Connection.objects.filter(membership=member, state__in=Connection.IN_USE).count() == 2
