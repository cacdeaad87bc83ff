"""What an export holds and how it is written: the audit trail's or the usage events' columns, as
CSV or JSON Lines, one keyset page at a time (streamed in a response or written by a job,
reports/export_jobs.py).
"""

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime

from django.contrib.auth import get_user_model

from orgconnectors.connectors.models import Connector
from orgconnectors.reports.models import ExportJob
from orgconnectors.reports.selectors import AuditFilters, audit_events_filtered, keyset_pages
from orgconnectors.reports.usage_selectors import UsageFilters, usage_events_filtered

Source, Format = ExportJob.Source, ExportJob.Format
BATCH_SIZE = 2000
# The first page is small: a download starts at once, however large the export.
FIRST_BATCH = 200
CONTENT_TYPES = {Format.CSV: "text/csv; charset=utf-8", Format.JSONL: "application/x-ndjson"}

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


def filtered_rows(source: str, organization, filters):
    """The events the export holds, newest first."""
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
    events = filtered_rows(source, organization, filters)
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
