"""Exports of the audit trail and the usage events: exactly the filtered view.

Up to ORGCONNECTORS_EXPORT_STREAM_LIMIT rows are streamed in the response, one keyset page at a
time; larger exports are written to a file by a Celery worker (ExportJob), downloadable by the
person who asked for 24 hours. Every export is recorded in the audit trail when it is asked for.
The rows and the file formats: reports/export_formats.py.
"""

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.selectors import require_role
from orgconnectors.outbox.enqueue import enqueue
from orgconnectors.reports.errors import ExportGone
from orgconnectors.reports.export_formats import chunks, filtered_rows, filters_from_query
from orgconnectors.reports.models import ExportJob
from orgconnectors.reports.selectors import AuditFilters, in_date_range
from orgconnectors.reports.usage_selectors import UsageFilters, usage_events_upper_bound

logger = logging.getLogger(__name__)

Source, Format, Status = ExportJob.Source, ExportJob.Format, ExportJob.Status
Role = Membership.Role
# The action each source's export is recorded as.
EXPORTED = {Source.AUDIT: "audit.exported", Source.USAGE: "usage.exported"}
# A job still "running" after this long lost its worker: the lease of a job, counted from its
# start. Its task's time limits (reports/tasks.py) end it well before; a worker that finds the
# lease nearly over between two pages stops and says so.
STALE_AFTER = timedelta(hours=6)
STOP_BEFORE_STALE = timedelta(minutes=30)
EXPORT_SOFT_LIMIT_SECONDS = 5 * 3600
EXPORT_HARD_LIMIT_SECONDS = 5 * 3600 + 300


def stream_limit() -> int:
    return settings.ORGCONNECTORS_EXPORT_STREAM_LIMIT


def _audit_events_bound(organization, filters: AuditFilters) -> int:
    """At most how many events the date range holds: the chain positions of its oldest and
    newest events, two indexed lookups instead of counting. (Exact without other filters, as
    long as the clock never went back between the two.)"""
    in_range = in_date_range(
        AuditEvent.objects.filter(organization=organization), filters.date_from, filters.date_to
    )
    events = in_range.filter(seq__isnull=False).values_list("seq", flat=True)
    first = events.order_by("created_at", "id").first()
    last = events.order_by("-created_at", "-id").first()
    # Plus the few events committed but not sealed yet (a partial index finds them).
    unsealed = in_range.filter(hash__isnull=True).count()
    return unsealed + (0 if first is None else max(last - first + 1, 1))


def _count_upto(source: str, organization, filters, limit: int) -> int:
    """At most how many rows the export has: a bound when that is under `limit`, otherwise a
    count that stops at `limit` + 1."""
    if source == Source.AUDIT:
        bound = _audit_events_bound(organization, filters)
    else:
        bound = usage_events_upper_bound(organization=organization, filters=filters)
    if bound <= limit:
        return bound
    rows = filtered_rows(source, organization, filters).order_by()
    return rows.values("id")[: limit + 1].count()


@dataclass(frozen=True)
class ExportRequest:
    """What the caller gets: a stream to send now, or the job that will write the file."""

    source: str
    fmt: str
    organization: object
    filters: AuditFilters | UsageFilters
    job: ExportJob | None

    def stream(self) -> Iterator[str]:
        return chunks(
            source=self.source, fmt=self.fmt, organization=self.organization, filters=self.filters
        )

    @property
    def filename(self) -> str:
        day = timezone.now().date().isoformat()
        return f"{self.organization.slug}-{self.source}-{day}.{self.fmt}"


def export_request(
    *, membership: Membership, source: str, fmt: str, filters, actor: Actor
) -> ExportRequest:
    """Export the filtered view: streamed when small enough, otherwise as a job for a worker.

    Recorded in the audit trail either way, with the filters, before any row leaves.
    """
    require_role(membership, Role.OWNER, Role.AUDITOR)
    organization = membership.organization
    source, fmt = Source(source), Format(fmt)
    limit = stream_limit()
    size = _count_upto(source, organization, filters, limit)
    job = None
    with transaction.atomic():
        if size > limit:
            job = ExportJob.objects.create(
                organization=organization,
                requested_by=membership.user,
                source=source,
                format=fmt,
                filters=filters.as_query(),
            )
            enqueue("audit.export_run", kwargs={"job_id": job.pk})
        audit_record(
            organization=organization,
            actor=actor,
            action=EXPORTED[source],
            target=AuditTarget(
                type="export", id=job.pk if job else "", label=f"{source.label} ({fmt.label})"
            ),
            changes={
                "format": {"before": None, "after": fmt.value},
                "filters": {"before": None, "after": filters.as_query()},
                "delivery": {"before": None, "after": "job" if job else "stream"},
                "rows": {
                    "before": None,
                    "after": f"more than {limit}" if job else f"at most {size}",
                },
            },
        )
    return ExportRequest(source, fmt, organization, filters, job)


def export_dir() -> Path:
    return Path(settings.ORGCONNECTORS_EXPORT_DIR)


class _LeaseOver(Exception):
    """The job's lease is (nearly) over: another worker or the expiry sweep may take it."""


def _failed(job_id: int, started_at, error: str) -> None:
    ExportJob.objects.filter(pk=job_id, status=Status.RUNNING, started_at=started_at).update(
        status=Status.FAILED, finished_at=timezone.now(), error=error
    )


def export_job_run(*, job_id: int) -> int:
    """Write the job's file; returns the rows written. A job already taken is left alone."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now
    )
    if not claimed:
        return 0
    # The job is this worker's while it is running and still started at `now` (the lease's
    # token), and only until STALE_AFTER from then.
    held = ExportJob.objects.filter(pk=job_id, status=Status.RUNNING, started_at=now)
    job = ExportJob.objects.select_related("organization").get(pk=job_id)
    filters = filters_from_query(job.source, job.filters)
    rows = filtered_rows(job.source, job.organization, filters).order_by()
    held.update(rows_expected=rows.count())
    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{job.pk}-{secrets.token_urlsafe(12)}.{job.format}"
    partial = directory / (name + ".part")

    def progress(written: int) -> None:
        if timezone.now() >= now + STALE_AFTER - STOP_BEFORE_STALE or not held.update(
            rows_written=written
        ):
            raise _LeaseOver

    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            for chunk in chunks(
                source=job.source,
                fmt=job.format,
                organization=job.organization,
                filters=filters,
                on_batch=progress,
            ):
                out.write(chunk)
        partial.rename(directory / name)
    except (_LeaseOver, SoftTimeLimitExceeded):
        partial.unlink(missing_ok=True)
        logger.warning("export %s stopped: it ran too long", job_id)
        _failed(
            job_id,
            now,
            "The export took too long and was stopped; export a shorter date range.",
        )
        return 0
    except (OSError, ValueError) as failure:
        partial.unlink(missing_ok=True)
        logger.exception("export %s failed", job_id)
        _failed(
            job_id,
            now,
            f"The file could not be written ({type(failure).__name__}); export again.",
        )
        raise
    done = timezone.now()
    written = ExportJob.objects.get(pk=job_id).rows_written
    finished = (
        held.update(
            status=Status.DONE,
            file_name=name,
            rows_expected=written,
            finished_at=done,
            expires_at=done + timedelta(hours=settings.ORGCONNECTORS_EXPORT_TTL_HOURS),
        )
        if done < now + STALE_AFTER
        else 0
    )
    if not finished:
        # Given up as stale meanwhile: the person was told to export again; no orphan file.
        (directory / name).unlink(missing_ok=True)
        logger.warning("export %s finished after its lease ran out; file discarded", job_id)
        return 0
    return written


def export_job_get(*, membership: Membership, job_id) -> ExportJob:
    """One of the caller's own exports in this organization; anyone else's is 404."""
    try:
        return ExportJob.objects.get(
            organization=membership.organization, requested_by=membership.user, pk=int(job_id)
        )
    except (ExportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such export") from None


def export_file(job: ExportJob, *, now=None) -> Path:
    """The finished file of a job, or ExportGone when it expired or was never written."""
    now = now or timezone.now()
    if job.status != Status.DONE or not job.file_name:
        raise ExportGone("This export has no file to download; it is not ready or it failed.")
    path = export_dir() / job.file_name
    if (job.expires_at and job.expires_at <= now) or not path.exists():
        raise ExportGone("This export expired after 24 hours; export the view again.")
    return path


def exports_expire(*, now=None) -> int:
    """Remove the files of exports past their 24 hours, and give up on jobs whose worker died."""
    now = now or timezone.now()
    expired = 0
    due = ExportJob.objects.filter(status=Status.DONE, expires_at__lte=now)
    for job_id, file_name in due.values_list("id", "file_name"):
        (export_dir() / file_name).unlink(missing_ok=True)
        expired += ExportJob.objects.filter(pk=job_id, status=Status.DONE).update(
            status=Status.EXPIRED
        )
    ExportJob.objects.filter(status=Status.RUNNING, started_at__lt=now - STALE_AFTER).update(
        status=Status.FAILED,
        finished_at=now,
        error="The worker writing this export stopped; export again.",
    )
    return expired
