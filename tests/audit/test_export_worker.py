"""An export past the stream limit, written by a real Celery worker (Redis, the test database)."""

import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connections, transaction

from orgconnectors.audit.services import audit_record
from orgconnectors.celery import app as celery_app
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.reports import tasks
from orgconnectors.reports.export_jobs import export_file
from orgconnectors.reports.models import ExportJob
from tests.factories import MembershipFactory

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or connections["default"].vendor != "postgresql",
    reason="a real worker needs Redis and PostgreSQL",
)


def _test_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connections["default"].settings_dict["NAME"]))


@pytest.fixture
def worker(tmp_path):
    """A worker consuming a queue of its own, so no other worker on the broker takes the task."""
    queue = f"audit-test-{os.getpid()}"
    name = f"{queue}@{socket.gethostname()}"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "ORGCONNECTORS_EXPORT_DIR": str(settings.ORGCONNECTORS_EXPORT_DIR),
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orgconnectors", "worker", "--pool=solo",
         f"--hostname={name}", f"--queues={queue}", "--without-mingle", "--without-gossip"],
        env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(name in r for r in celery_app.control.ping(destination=[name], timeout=1)):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the worker did not start:\n" + (tmp_path / "worker.log").read_text())
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_writes_the_export(worker):
    auditor = MembershipFactory(role="auditor")
    for n in range(30):
        with transaction.atomic():
            audit_record(
                organization=auditor.organization,
                actor=Actor.system("tests"),
                action="organization.plan_changed",
                target=AuditTarget(type="organization", label=str(n)),
            )
    job = ExportJob.objects.create(
        organization=auditor.organization,
        requested_by=auditor.user,
        source="audit",
        format="jsonl",
    )

    tasks.export_run.apply_async(kwargs={"job_id": job.pk}, queue=worker)
    deadline = time.monotonic() + 60
    while job.status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()

    assert (job.status, job.rows_written) == ("done", 30)
    assert len(export_file(job).read_text().splitlines()) == 30
