"""An export job writes its file only while it holds its lease (running, started by this
worker, within STALE_AFTER of its start); the clock is moved with time_machine."""

from datetime import timedelta

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.reports import export_formats, export_jobs
from orgconnectors.reports.export_jobs import STALE_AFTER, export_job_run, exports_expire
from orgconnectors.reports.models import ExportJob


@pytest.fixture
def nine_events(org, write_event):
    return [
        write_event(target=AuditTarget(type="connector", id=n, connector_id=n)) for n in range(9)
    ]


def test_a_job_given_up_as_stale_while_it_ran_stays_failed_and_leaves_no_file(
    org, owner, nine_events, monkeypatch, settings, tmp_path
):
    settings.ORGCONNECTORS_EXPORT_DIR = str(tmp_path)
    monkeypatch.setattr(export_formats, "FIRST_BATCH", 2)
    monkeypatch.setattr(export_formats, "BATCH_SIZE", 4)
    job = ExportJob.objects.create(
        organization=org, requested_by=owner.user, source="audit", format="csv"
    )
    real_chunks = export_jobs.chunks

    with time_machine.travel(timezone.now(), tick=False) as clock:

        def slow_worker(**options):
            pages = real_chunks(**options)
            yield next(pages)  # the header
            yield next(pages)  # the first page; then the worker stalls past its lease
            clock.shift(STALE_AFTER + timedelta(minutes=1))
            exports_expire()
            yield from pages

        monkeypatch.setattr(export_jobs, "chunks", slow_worker)
        written = export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert written == 0
    assert (job.status, job.error) == (
        "failed",
        "The worker writing this export stopped; export again.",
    )
    assert list(tmp_path.iterdir()) == []


def test_an_export_at_its_soft_limit_is_marked_failed_and_leaves_no_partial_file(
    org, owner, nine_events, monkeypatch, settings, tmp_path
):
    settings.ORGCONNECTORS_EXPORT_DIR = str(tmp_path)
    job = ExportJob.objects.create(
        organization=org, requested_by=owner.user, source="audit", format="csv"
    )
    real_chunks = export_jobs.chunks

    def soft_limit_after_the_header(**options):
        pages = real_chunks(**options)
        yield next(pages)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(export_jobs, "chunks", soft_limit_after_the_header)
    assert export_job_run(job_id=job.pk) == 0

    job.refresh_from_db()
    assert (job.status, job.error) == (
        "failed",
        "The export took too long and was stopped; export a shorter date range.",
    )
    assert list(tmp_path.iterdir()) == []
