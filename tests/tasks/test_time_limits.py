"""Every task of the Celery app has a soft and a hard time limit, soft before hard, and a task
that works under a lease ends (hard limit) before its lease does."""

import pytest
from django.conf import settings

from orgconnectors.celery import app
from orgconnectors.oauth.refresh_leases import refresh_lease
from orgconnectors.oauth.revocation import FIRST_TRY_LEFT_ALONE
from orgconnectors.reports.export_jobs import STALE_AFTER


def _our_tasks() -> dict:
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    tasks = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    some = {"oauth.refresh_credential", "health.sweep", "audit.export_run"}
    assert some | {"organizations.plan_request_notify"} <= tasks.keys(), sorted(tasks)
    return tasks


@pytest.mark.parametrize("name", sorted(_our_tasks()))
def test_every_task_has_a_soft_and_a_hard_time_limit_soft_first(name):
    task = app.tasks[name]

    assert task.soft_time_limit, f"{name} has no soft time limit"
    assert task.time_limit, f"{name} has no hard time limit"
    assert task.soft_time_limit < task.time_limit


@pytest.mark.parametrize(
    ("name", "lease_seconds"),
    [
        ("oauth.refresh_credential", refresh_lease().total_seconds()),
        ("health.sweep", settings.ORGCONNECTORS_PROBE_LEASE_SECONDS),
        ("health.run_batch", settings.ORGCONNECTORS_PROBE_LEASE_SECONDS),
        ("audit.export_run", STALE_AFTER.total_seconds()),
        ("oauth.revoke_tokens", FIRST_TRY_LEFT_ALONE.total_seconds()),
    ],
)
def test_a_task_that_works_under_a_lease_ends_before_its_lease(name, lease_seconds):
    assert app.tasks[name].time_limit < lease_seconds
