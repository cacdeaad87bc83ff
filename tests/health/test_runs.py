""" "Check now" and "Check all": a run with progress, worked off by tasks after the commit."""

from orgconnectors.connectors.models import Connector
from orgconnectors.health.models import HealthCheck, HealthRun
from orgconnectors.health.selectors import health_run_progress
from orgconnectors.health.services import health_check_all, health_check_now, health_run_batch
from tests.factories import ConnectorFactory


def connector_on(served, org, path="/mcp"):
    return ConnectorFactory(
        organization=org, url=served.url + path, transport=Connector.Transport.AUTO
    )


def test_check_now_checks_the_connector_once_the_request_commits(
    db, org, owner, actor, peers, process_runner, eager_celery, django_capture_on_commit_callbacks
):
    connector = connector_on(peers.stateless_json, org)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_id = health_check_now(connector=connector, actor=actor(owner))
        assert peers.stateless_json.log.entries == []  # nothing before the commit
    for callback in callbacks:
        callback()

    run = HealthRun.objects.get(pk=run_id)
    assert (run.kind, run.total, run.done, run.requested_by) == ("one", 1, 1, owner.user)
    assert run.finished
    connector.refresh_from_db()
    assert connector.status == Connector.Status.HEALTHY
    assert HealthCheck.objects.get(run=run).connector == connector


def test_check_all_shows_progress_until_every_connector_is_checked(
    db, org, owner, actor, peers, process_runner, eager_celery, django_capture_on_commit_callbacks
):
    healthy = connector_on(peers.stateless_json, org)
    refused = ConnectorFactory(organization=org, url=peers.refused_url)
    removed = connector_on(peers.stateless, org)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_id = health_check_all(organization=org, actor=actor(owner))
    progress = health_run_progress(organization=org, run_id=run_id)
    assert (progress.run.total, progress.run.done, progress.percent) == (3, 0, 0)
    removed.delete()  # an owner removes one before the worker gets to it
    for callback in callbacks:
        callback()

    progress = health_run_progress(organization=org, run_id=run_id)
    assert progress.finished and progress.percent == 100
    assert {c.connector_id: c.outcome for c in progress.checks} == {
        healthy.pk: "healthy",
        refused.pk: "unreachable",
    }


def test_check_all_splits_a_large_organization_into_batches(
    db, org, owner, actor, settings, django_capture_on_commit_callbacks
):
    settings.ORGCONNECTORS_PROBE_BATCH_SIZE = 2
    for i in range(5):
        ConnectorFactory(organization=org)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        health_check_all(organization=org, actor=actor(owner))

    assert len(callbacks) == 3


def test_check_all_of_an_organization_without_connectors_is_finished_at_once(db, org, owner, actor):
    run_id = health_check_all(organization=org, actor=actor(owner))

    assert health_run_progress(organization=org, run_id=run_id).finished


def test_a_run_batch_delivered_twice_checks_each_connector_once(
    db, org, owner, actor, peers, runner, django_capture_on_commit_callbacks
):
    connector = connector_on(peers.stateless_json, org)
    with django_capture_on_commit_callbacks(execute=False):
        run_id = health_check_now(connector=connector, actor=actor(owner))

    assert health_run_batch(run_id=run_id, connector_ids=[connector.pk], runner=runner) == 1
    assert health_run_batch(run_id=run_id, connector_ids=[connector.pk], runner=runner) == 0

    assert HealthCheck.objects.filter(connector=connector).count() == 1
    assert peers.stateless_json.log.rpc_methods().count("server/discover") == 1
    assert HealthRun.objects.get(pk=run_id).done == 1


def test_a_run_only_checks_connectors_of_its_own_organization(
    db, org, other_org, owner, actor, peers, runner, django_capture_on_commit_callbacks
):
    mine = connector_on(peers.stateless_json, org)
    theirs = connector_on(peers.stateless_json, other_org, path="/mcp?theirs")
    with django_capture_on_commit_callbacks(execute=False):
        run_id = health_check_now(connector=mine, actor=actor(owner))

    health_run_batch(run_id=run_id, connector_ids=[theirs.pk], runner=runner)

    assert not HealthCheck.objects.filter(connector=theirs).exists()
