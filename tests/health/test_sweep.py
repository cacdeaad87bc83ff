"""The sweep: due connectors claimed in batches, probed outside any transaction, recorded."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.health.models import HealthCheck
from orgconnectors.health.services import connectors_claim_due, health_sweep
from tests.factories import ConnectorFactory, OrganizationFactory


def connector_on(served, org, path="/mcp", **fields):
    return ConnectorFactory(
        organization=org, url=served.url + path, transport=Connector.Transport.AUTO, **fields
    )


def test_a_sweep_checks_a_due_connector_and_records_what_it_found(db, org, peers, runner):
    connector = connector_on(peers.stateless_json, org)
    before = timezone.now()

    report = health_sweep(runner=runner)

    connector.refresh_from_db()
    assert (report.claimed, report.recorded, report.more_due) == (1, 1, False)
    assert connector.status == Connector.Status.HEALTHY
    assert connector.detected_transport == "streamable_http"
    assert connector.protocol_version == "2026-07-28"
    assert (connector.server_name, connector.server_version) == ("demo", "1.2.3")
    assert "tools" in connector.capabilities
    assert [t["name"] for t in connector.discovered_tools] == ["search", "delete_issue"]
    assert connector.last_latency_ms is not None and connector.last_error == ""
    assert connector.last_checked_at >= before
    due_in = connector.next_check_at - connector.last_checked_at
    assert due_in == timedelta(seconds=300)
    check = HealthCheck.objects.get(connector=connector)
    assert (check.outcome, check.tool_count, check.transport) == ("healthy", 2, "streamable_http")
    assert check.organization_id == org.id


def test_the_first_check_is_audited_with_the_tools_it_discovered(db, org, peers, runner):
    connector = connector_on(peers.stateless_json, org)

    health_sweep(runner=runner)

    events = {e.action: e for e in AuditEvent.objects.filter(target_id=str(connector.pk))}
    assert events["connector.tools_approved"].changes["tools"] == {
        "before": [],
        "after": ["delete_issue", "search"],
    }
    assert events["connector.health_changed"].changes["status"] == {
        "before": "unchecked",
        "after": "healthy",
    }
    assert events["connector.health_changed"].actor_label == "health check"


def test_unchanged_tools_and_status_are_not_audited_again(db, org, peers, runner):
    connector = connector_on(peers.stateless_json, org)
    health_sweep(runner=runner)
    Connector.objects.filter(pk=connector.pk).update(next_check_at=timezone.now())

    health_sweep(runner=runner)

    assert HealthCheck.objects.filter(connector=connector).count() == 2
    assert AuditEvent.objects.filter(target_id=str(connector.pk)).count() == 2


def test_a_connector_that_is_not_due_is_left_alone(db, org, peers, runner):
    later = timezone.now() + timedelta(minutes=3)
    connector_on(peers.stateless_json, org, next_check_at=later)

    report = health_sweep(runner=runner)

    assert report.claimed == 0
    assert peers.stateless_json.log.entries == []


def test_claiming_pushes_the_batch_out_by_a_lease(db, org, peers, settings):
    settings.ORGCONNECTORS_PROBE_LEASE_SECONDS = 600
    due = [connector_on(peers.stateless_json, org, path=f"/mcp?c={i}") for i in range(3)]

    claimed = connectors_claim_due(batch_size=2)

    assert [c.connector_id for c in claimed] == [due[0].pk, due[1].pk]
    leased = Connector.objects.filter(next_check_at__gt=timezone.now() + timedelta(minutes=9))
    assert set(leased.values_list("pk", flat=True)) == {due[0].pk, due[1].pk}
    assert [c.connector_id for c in connectors_claim_due(batch_size=2)] == [due[2].pk]


def test_a_full_batch_asks_for_another_sweep_before_probing(db, org, peers, runner):
    for i in range(3):
        connector_on(peers.stateless_json, org, path=f"/mcp?c={i}")
    asked = []

    report = health_sweep(batch_size=2, runner=runner, on_more_due=lambda: asked.append(1))

    assert report.more_due and asked == [1]


def test_a_connector_removed_while_being_checked_is_not_recorded(db, org, peers, runner):
    connector = connector_on(peers.stateless_json, org)
    claimed = connectors_claim_due()
    Connector.objects.filter(pk=connector.pk).delete()

    from orgconnectors.health.services import _probe_and_record

    assert _probe_and_record(claimed, runner=runner) == 0
    assert not HealthCheck.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_sweeping_together_never_probe_a_connector_twice(
    peers, runner, run_concurrently
):
    org = OrganizationFactory()
    count = 40
    for i in range(count):
        connector_on(peers.stateless_json, org, path=f"/mcp?c={i}")

    def worker():
        claimed = 0
        while (report := health_sweep(batch_size=5, runner=runner)).claimed:
            claimed += report.claimed
        return claimed

    first, second = run_concurrently(worker, worker)

    assert first + second == count
    assert first > 0 and second > 0, "both workers took part"
    probes = Counter(
        query for _, _, query, rpc in peers.stateless_json.log.entries if rpc == "server/discover"
    )
    assert probes == {f"c={i}": 1 for i in range(count)}
    assert HealthCheck.objects.count() == count
