"""The Celery side: beat entries name real tasks, and the tasks call the services."""

from orgconnectors.celery import app
from orgconnectors.connectors.models import Connector
from orgconnectors.health import tasks
from orgconnectors.health.schedule import HEALTH_BEAT_SCHEDULE
from tests.factories import ConnectorFactory


def test_every_beat_entry_names_a_registered_task(settings):
    assert settings.CELERY_BEAT_SCHEDULE["health-sweep"] == HEALTH_BEAT_SCHEDULE["health-sweep"]
    for entry in HEALTH_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_the_sweep_task_checks_due_connectors(db, org, peers, process_runner, eager_celery):
    connector = ConnectorFactory(organization=org, url=peers.stateless_json.url + "/mcp")

    assert tasks.sweep.delay().get() == 1

    connector.refresh_from_db()
    assert connector.status == Connector.Status.HEALTHY


def test_the_rollup_task_runs(db, eager_celery):
    assert tasks.rollup.delay().get() == 0
