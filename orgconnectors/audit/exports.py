"""Exports of the audit trail and the usage events: CSV or JSON Lines, exactly the filtered view.

Up to ORGCONNECTORS_EXPORT_STREAM_LIMIT rows are streamed in the response, one keyset page at a
time; larger exports are written to a file by a Celery worker (ExportJob), downloadable by the
person who asked for 24 hours. Every export is recorded in the audit trail when it is asked for.
"""

import csv
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from orgconnectors.audit.errors import ExportGone
from orgconnectors.audit.models import AuditEvent, ExportJob
from orgconnectors.audit.selectors import (
    AuditFilters,
    audit_events_filtered,
    in_date_range,
    keyset_pages,
)
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage_selectors import (
    UsageFilters,
    usage_events_filtered,
    usage_events_upper_bound,
)
from orgconnectors.connectors.models import Connector
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.selectors import require_role
from orgconnectors.outbox.enqueue import enqueue

logger = logging.getLogger(__name__)

Source, Format, Status = ExportJob.Source, ExportJob.Format, ExportJob.Status
Role = Membership.Role
BATCH_SIZE = 2000
# The first page is small: a download starts at once, however large the export.
FIRST_BATCH = 200
# The action each source's export is recorded as.
EXPORTED = {Source.AUDIT: "audit.exported", Source.USAGE: "usage.exported"}
CONTENT_TYPES = {Format.CSV: "text/csv; charset=utf-8", Format.JSONL: "application/x-ndjson"}
# A job still "running" after this long lost its worker: the lease of a job, counted from its
# start. Its task's time limits (audit/tasks.py) end it well before; a worker that finds the
# lease nearly over between two pages stops and says so.
STALE_AFTER = timedelta(hours=6)
STOP_BEFORE_STALE = timedelta(minutes=30)
EXPORT_SOFT_LIMIT_SECONDS = 5 * 3600
EXPORT_HARD_LIMIT_SECONDS = 5 * 3600 + 300

# (header, column) in file order; the hashes let anyone check the exported chain themselves.
AUDIT_COLUMNS = (
    ("id", "id"), ("created_at", "created_at"), ("actor", "actor_label"),
    ("action", "action"), ("outcome", "outcome"), ("target_type", "target_type"),
    ("target_id", "target_id"), ("target", "target_label"), ("connector_id", "connector_ref"),
    ("member_user_id", "member_ref"), ("ip", "ip"), ("user_agent", "user_agent"),
    ("changes", "changes"), ("prev_hash", "prev_hash"), ("hash", "hash"),
)  # fmt: skip
USAGE_COLUMNS = (
    ("id", "id"), ("created_at", "created_at"), ("kind", "kind"), ("member", "member"),
    ("user_id", "user_id"), ("connector", "connector"), ("connector_id", "connector_id"),
    ("api_token_id", "api_token_id"), ("ip", "ip"), ("details", "details"),
)  # fmt: skip


def stream_limit() -> int:
    return settings.ORGCONNECTORS_EXPORT_STREAM_LIMIT


def _filtered(source: str, organization, filters):
    if source == Source.AUDIT:
        return audit_events_filtered(organization=organization, filters=filters)
    return usage_events_filtered(organization=organization, filters=filters)


def filters_from_query(source: str, query: dict) -> AuditFilters | UsageFilters:
    return (AuditFilters if source == Source.AUDIT else UsageFilters).from_query(query)


class _Names:
    """Members' emails and connectors' names for usage rows, fetched once per id."""

    def __init__(self, organization):
        self.organization = organization
        self.emails: dict[int, str] = {}
        self.connectors: dict[int, str] = {}

    def fill(self, rows: list[dict]) -> None:
        users = {r["user_id"] for r in rows if r["user_id"] is not None} - self.emails.keys()
        if users:
            self.emails.update(
                get_user_model().objects.filter(pk__in=users).values_list("pk", "email")
            )
        connectors = {r["connector_id"] for r in rows if r["connector_id"]} - self.connectors.keys()
        if connectors:
            self.connectors.update(
                Connector.objects.filter(
                    organization=self.organization, pk__in=connectors
                ).values_list("pk", "name")
            )
        for row in rows:
            row["member"] = self.emails.get(row["user_id"], "")
            row["connector"] = self.connectors.get(row["connector_id"], "")


def _rows(source: str, organization, filters) -> Iterator[list[dict]]:
    """The export's rows, one keyset page (a list of dicts) at a time."""
    events = _filtered(source, organization, filters)
    if source == Source.AUDIT:
        columns = tuple(column for _, column in AUDIT_COLUMNS)
    else:
        columns = tuple(c for _, c in USAGE_COLUMNS if c not in ("member", "connector"))
    names = _Names(organization) if source == Source.USAGE else None
    pages = keyset_pages(events, columns=columns, batch_size=BATCH_SIZE, first_batch=FIRST_BATCH)
    for page in pages:
        if names:
            names.fill(page)
        yield page


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    # A name like "=HYPERLINK(...)" would run as a formula in a spreadsheet (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class _Line:
    """csv.writer writes into this and gets the line back."""

    def write(self, value: str) -> str:
        return value


def chunks(
    *,
    source: str,
    fmt: str,
    organization,
    filters,
    on_batch: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The export as text chunks: the CSV header first, then one chunk per page of rows.
    `on_batch` hears the running row count after each page."""
    headers = AUDIT_COLUMNS if source == Source.AUDIT else USAGE_COLUMNS
    writer = csv.writer(_Line()) if fmt == Format.CSV else None
    if writer:
        yield writer.writerow([header for header, _ in headers])
    written = 0
    for batch in _rows(source, organization, filters):
        if writer:
            lines = (writer.writerow([_text(row[c]) for _, c in headers]) for row in batch)
        else:
            lines = (
                json.dumps({h: _json(row[c]) for h, c in headers}, ensure_ascii=False) + "\n"
                for row in batch
            )
        yield "".join(lines)
        written += len(batch)
        if on_batch:
            on_batch(written)


def _json(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if value is not None and not isinstance(value, str | int | float | bool | dict | list):
        return str(value)  # an inet value
    return value


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
    rows = _filtered(source, organization, filters).order_by()
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
    rows = _filtered(job.source, job.organization, filters).order_by()
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
