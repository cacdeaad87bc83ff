"""Usage events and exports of the audit trail and the usage events (owners, auditors)."""

from ninja import Query, Router, Status

from orgconnectors.api.access import AUDITOR, OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.schemas import INPUT_ERRORS, ErrorOut
from orgconnectors.api.scopes import READ
from orgconnectors.api.usage_schemas import (
    EXPORT_FILE,
    AuditExportQuery,
    ExportJobOut,
    ToolCallBodyOut,
    ToolCallOverviewOut,
    ToolCallQuery,
    UsageExportQuery,
    UsagePageOut,
    UsageQuery,
)
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.organizations.selectors import require_role
from orgconnectors.reports.export_jobs import export_file, export_job_get, export_request
from orgconnectors.reports.export_responses import file_response, streamed
from orgconnectors.reports.selectors import AuditFilters, audit_filter_choices
from orgconnectors.reports.tool_call_bodies import tool_call_body_get, tool_call_body_json
from orgconnectors.reports.tool_call_stats import tool_call_overview
from orgconnectors.reports.usage_selectors import UsageFilters, usage_events_page

router = Router(tags=["usage and exports"])


def _usage_filters(query) -> UsageFilters:
    return UsageFilters(
        kind=query.kind or "",
        connector=query.connector,
        member=query.member,
        date_from=query.date_from,
        date_to=query.date_to,
    )


@router.get(
    "/{org}/usage-events",
    response={200: UsagePageOut, **INPUT_ERRORS},
    operation_id="usage_event_list",
    summary="Usage events, newest first (owners, auditors)",
    description="Configuration hand-outs, authorizations, token refreshes, health changes and "
    "tool calls through the gateway (kind tool_call).",
)
@needs_scope(READ)
def usage_event_list(request, org: str, query: Query[UsageQuery]):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    organization = membership.organization
    page = usage_events_page(
        organization=organization,
        filters=_usage_filters(query),
        cursor=query.cursor,
        limit=query.limit,
    )
    choices = audit_filter_choices(organization=organization, with_trail=False)
    emails = {m.user_id: m.user.email for m in choices.members}
    names = {c.pk: c.name for c in choices.connectors}
    for event in page.events:
        event.member_label = emails.get(event.user_id)
        event.connector_label = names.get(event.connector_id)
    return page


@router.get(
    "/{org}/usage/tool-calls",
    response={200: ToolCallOverviewOut, **INPUT_ERRORS},
    operation_id="usage_tool_calls",
    summary="Tool calls through the gateway: calls, errors, latency (owners, auditors)",
    description="Per connector, member and tool over the last 7, 30 or 90 days, and calls per "
    "day by outcome. Each call itself is a usage event of kind `tool_call`.",
)
@needs_scope(READ)
def usage_tool_calls(request, org: str, query: Query[ToolCallQuery]):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    organization = membership.organization
    connector_id = None
    if query.connector is not None:
        connector_id = connector_get(organization=organization, connector_id=query.connector).pk
    overview = tool_call_overview(
        organization=organization, days=query.days, connector_id=connector_id
    )
    return {
        "days": overview.days,
        "total": overview.total.as_json(),
        "by_outcome": [
            {"outcome": series.outcome, "counts": series.counts} for series in overview.by_outcome
        ],
        "by_connector": [s.as_json() for s in overview.by_connector],
        "by_member": [s.as_json() for s in overview.by_member],
        "by_tool": [s.as_json() for s in overview.by_tool],
    }


@router.get(
    "/{org}/tool-calls/{call_id}/body",
    response={200: ToolCallBodyOut, **INPUT_ERRORS},
    operation_id="tool_call_body",
    summary="The kept arguments and result of one tool call (auditors only)",
    description="Kept only where the organization keeps tool-call bodies, redacted of secrets, "
    "and purged with the usage events.",
)
@needs_scope(READ)
def tool_call_body(request, org: str, call_id: str):
    # Found first, so another organization's call is a 404 whoever asks; then auditors only.
    membership = caller_membership(request, org)
    body = tool_call_body_get(organization=membership.organization, call_id=call_id[:64])
    require_role(membership, AUDITOR)
    return tool_call_body_json(body)


def _export(request, membership, *, source: str, fmt: str, filters):
    export = export_request(
        membership=membership, source=source, fmt=fmt, filters=filters, actor=caller_actor(request)
    )
    if export.job is not None:
        return Status(202, export.job)
    return streamed(export)


@router.get(
    "/{org}/audit-events/export",
    response={202: ExportJobOut, **INPUT_ERRORS},
    operation_id="audit_event_export",
    summary="The filtered audit trail as CSV or JSON Lines (owners, auditors)",
    description="Up to 100,000 rows answer at once (200, streamed); a larger export answers "
    "202 with a job to follow until its file is ready. Every export is recorded in the trail.",
    openapi_extra={"responses": {"200": EXPORT_FILE}},
)
@needs_scope(READ)
def audit_event_export(request, org: str, query: Query[AuditExportQuery]):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    filters = AuditFilters(
        actor=query.actor,
        action=query.action,
        target=query.target,
        connector=query.connector,
        member=query.member,
        outcome=query.outcome or "",
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return _export(request, membership, source="audit", fmt=query.format, filters=filters)


@router.get(
    "/{org}/usage-events/export",
    response={202: ExportJobOut, **INPUT_ERRORS},
    operation_id="usage_event_export",
    summary="The filtered usage events as CSV or JSON Lines (owners, auditors)",
    description="Like the audit trail's export: 200 streamed, or 202 with a job when larger.",
    openapi_extra={"responses": {"200": EXPORT_FILE}},
)
@needs_scope(READ)
def usage_event_export(request, org: str, query: Query[UsageExportQuery]):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    return _export(
        request, membership, source="usage", fmt=query.format, filters=_usage_filters(query)
    )


@router.get(
    "/{org}/exports/{job_id}",
    response={200: ExportJobOut, **INPUT_ERRORS},
    operation_id="export_get",
    summary="An export you asked for: its progress and, once done, its download URL",
)
@needs_scope(READ)
def export_get(request, org: str, job_id: int):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    return export_job_get(membership=membership, job_id=job_id)


@router.get(
    "/{org}/exports/{job_id}/download",
    response={410: ErrorOut, **INPUT_ERRORS},
    operation_id="export_download",
    summary="The file of an export you asked for, for 24 hours after it was written",
    openapi_extra={"responses": {"200": EXPORT_FILE}},
)
@needs_scope(READ)
def export_download(request, org: str, job_id: int):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    job = export_job_get(membership=membership, job_id=job_id)
    return file_response(job, export_file(job))  # ExportGone: a 410 (api/errors.py)
