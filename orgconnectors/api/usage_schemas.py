"""Bodies of the usage events and export operations (the audit trail's own are in schemas.py)."""

from datetime import date, datetime
from typing import Any, Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import field_validator

from orgconnectors.api.schemas import AuditFilterQuery, TextInput
from orgconnectors.audit.models import UsageEvent
from orgconnectors.reports.models import ExportJob

UsageKindName = Literal[tuple(UsageEvent.Kind.values)]
FormatName = Literal[tuple(ExportJob.Format.values)]
ExportStatusName = Literal[tuple(ExportJob.Status.values)]
SourceName = Literal[tuple(ExportJob.Source.values)]


class UsageFilterQuery(TextInput):
    kind: UsageKindName | None = Field(None, description="Only events of this kind.")
    connector: int | None = Field(None, description="Only events of this connector (id).")
    member: int | None = Field(None, description="Only events of this member (user id).")
    date_from: date | None = Field(None, description="YYYY-MM-DD, inclusive.")
    date_to: date | None = Field(None, description="YYYY-MM-DD, inclusive.")


class UsageQuery(UsageFilterQuery):
    cursor: str | None = Field(None, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class UsageEventOut(Schema):
    id: int
    created_at: datetime
    kind: UsageKindName
    user_id: int | None = Field(description="The member whose use it was.")
    member: str | None = Field(description="Their email, while they are in the organization.")
    connector_id: int | None
    connector: str | None = Field(description="The connector's name, while it exists.")
    api_token_id: int | None = Field(description="The API token the request came with.")
    ip: str | None
    details: dict[str, Any]

    @staticmethod
    def resolve_member(event) -> str | None:
        return getattr(event, "member_label", None)

    @staticmethod
    def resolve_connector(event) -> str | None:
        return getattr(event, "connector_label", None)


class UsagePageOut(Schema):
    events: list[UsageEventOut]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )


class FormatQuery(Schema):
    format: FormatName = Field(description="csv or jsonl (JSON Lines).")


class AuditExportQuery(AuditFilterQuery, FormatQuery):
    pass


class UsageExportQuery(UsageFilterQuery, FormatQuery):
    pass


class ExportJobOut(Schema):
    id: int
    source: SourceName
    format: FormatName
    status: ExportStatusName
    filters: dict[str, str]
    rows_expected: int = Field(description="Rows to write (0 until the worker has counted).")
    rows_written: int
    percent: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="The download works until then.")
    download_url: str | None = Field(description="Where to get the file once status is done.")

    @staticmethod
    def resolve_download_url(job: ExportJob) -> str | None:
        if job.status != ExportJob.Status.DONE:
            return None
        return reverse(
            "api-1:export_download", kwargs={"org": job.organization.slug, "job_id": job.pk}
        )


# The 200 answer of an export is the file itself, streamed.
EXPORT_FILE = {
    "description": "The file, streamed (up to the stream limit of 100,000 rows).",
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/x-ndjson": {"schema": {"type": "string"}},
    },
}


class ToolCallQuery(TextInput):
    days: int = Field(30, description="The last 7, 30 or 90 UTC days.")
    connector: int | None = Field(None, description="Only calls to this connector (id).")

    @field_validator("days")
    @classmethod
    def _a_listed_period(cls, value: int) -> int:
        if value not in (7, 30, 90):
            raise ValueError("Choose a period of 7, 30 or 90 days.")
        return value


class CallStatsOut(Schema):
    label: str = Field(description="The connector, the member's email, or “connector · tool”.")
    calls: int
    errors: int = Field(description="Calls whose outcome was not ok (denied ones included).")
    denied: int = Field(description="Calls the gateway refused (blocked, held, over a limit).")
    p50_ms: float | None = Field(description="Median duration, in milliseconds.")
    p95_ms: float | None


class OutcomeSeriesOut(Schema):
    outcome: str
    counts: list[int] = Field(description="Calls per day, one number per entry of `days`.")


class ToolCallOverviewOut(Schema):
    days: list[date]
    total: CallStatsOut
    by_outcome: list[OutcomeSeriesOut]
    by_connector: list[CallStatsOut]
    by_member: list[CallStatsOut]
    by_tool: list[CallStatsOut]


class ToolCallBodyOut(Schema):
    call_id: str = Field(description="The call's usage event's `details.call_id`.")
    tool: str
    created_at: datetime
    request: dict[str, Any] = Field(
        description='The arguments, redacted of secrets: `{"value": …}`, or the beginning '
        "of a body too large to keep whole (`truncated`, `chars`, `beginning`)."
    )
    response: dict[str, Any] = Field(description="The result, in the same form.")
