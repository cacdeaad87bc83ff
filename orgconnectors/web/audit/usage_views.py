"""Usage: the page of charts, the list of usage events, and its exports."""

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from orgconnectors.audit.models import UsageEvent
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import NotAllowed
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.selectors import require_role
from orgconnectors.organizations.tool_call_bodies import tool_call_bodies_setting_update
from orgconnectors.reports.charts import horizontal_bars, stacked_columns
from orgconnectors.reports.export_jobs import export_request
from orgconnectors.reports.export_responses import streamed
from orgconnectors.reports.forms import (
    ExportFormatForm,
    ToolCallPageForm,
    UsageFilterForm,
    UsagePageForm,
)
from orgconnectors.reports.selectors import InvalidCursor, audit_filter_choices
from orgconnectors.reports.tool_call_bodies import kept_body_call_ids, tool_call_body_get
from orgconnectors.reports.tool_call_stats import tool_call_overview
from orgconnectors.reports.usage_selectors import UsageFilters, usage_events_page, usage_overview
from orgconnectors.web.audit.views import query_without

Role = Membership.Role
Kind = UsageEvent.Kind
_FILTERS = ("kind", "connector", "member", "date_from", "date_to")


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def usage_page(request, membership):
    organization = membership.organization
    form = UsagePageForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/usage.html", {"form": form}, status=400)
    days, kind = form.cleaned_data["days"], form.cleaned_data["kind"]
    overview = usage_overview(organization=organization, days=days, kind=kind)
    uptime_rows = [
        (c.label, c.uptime_percent, f"{c.uptime_percent:.2f}%")
        for c in overview.connectors
        if c.uptime_percent is not None
    ]
    top = overview.top_connectors
    context = {
        "form": form,
        "days": days,
        "overview": overview,
        "connector_chart": stacked_columns(
            overview.days, overview.by_connector, other_label="Other connectors"
        ),
        "member_chart": stacked_columns(
            overview.days, overview.by_member, other_label="Other members"
        ),
        "top_chart": horizontal_bars(
            [(s.label, s.total, f"{s.total:,}") for s in top],
            maximum=max((s.total for s in top), default=0),
        ),
        "uptime_chart": horizontal_bars(uptime_rows, maximum=100.0),
        "by_kind": [(Kind(value).label, count) for value, count in overview.by_kind.items()],
    }
    return render(request, "audit/usage.html", context)


def _filter_form(request, organization) -> UsageFilterForm:
    choices = audit_filter_choices(organization=organization, with_trail=False)
    return UsageFilterForm(request.GET, connectors=choices.connectors, members=choices.members)


def _filters(form) -> UsageFilters:
    return UsageFilters(**{name: form.cleaned_data[name] for name in _FILTERS})


def _label(events, form) -> None:
    """Name each event's member and connector from the choices the form already holds."""
    emails = dict(form.fields["member"].choices)
    names = dict(form.fields["connector"].choices)
    for event in events:
        if event.user_id:
            event.member_label = emails.get(event.user_id, f"Former member #{event.user_id}")
        if event.connector_id:
            event.connector_label = names.get(
                event.connector_id, f"Removed connector #{event.connector_id}"
            )


def _mark_kept_bodies(events, membership) -> None:
    """For auditors: which tool calls on the page have a kept body to open (one query)."""
    if membership.role != Role.AUDITOR:
        return
    call_ids = {
        e.details.get("call_id") for e in events if e.kind == Kind.TOOL_CALL and e.details
    } - {None}
    kept = kept_body_call_ids(organization=membership.organization, call_ids=call_ids)
    for event in events:
        event.kept_body = (event.details or {}).get("call_id") in kept


def _list_context(request, form, page) -> dict:
    if page:
        _label(page.events, form)
        _mark_kept_bodies(page.events, request.membership)
    return {
        "form": form,
        "page": page,
        "filtered": any(request.GET.get(name) for name in _FILTERS),
        "query": query_without(request, "cursor"),
        "export_query": query_without(request, "cursor", "format"),
        "older": request.GET.get("cursor"),
    }


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def usage_events(request, membership):
    form = _filter_form(request, membership.organization)
    page = None
    if form.is_valid():
        try:
            page = usage_events_page(
                organization=membership.organization,
                filters=_filters(form),
                cursor=request.GET.get("cursor"),
            )
        except InvalidCursor:
            form.add_error(
                None,
                "The link to older events is damaged or out of date; "
                "start again from the newest events.",
            )
    context = _list_context(request, form, page)
    return render(request, "audit/usage_events.html", context, status=200 if page else 400)


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def usage_export(request, membership):
    form = _filter_form(request, membership.organization)
    fmt = ExportFormatForm(request.GET)
    if not (form.is_valid() and fmt.is_valid()):
        for error in fmt.errors.get("format", []):
            form.add_error(None, error)
        return render(
            request, "audit/usage_events.html", _list_context(request, form, None), status=400
        )
    export = export_request(
        membership=membership,
        source="usage",
        fmt=fmt.cleaned_data["format"],
        filters=_filters(form),
        actor=Actor.from_request(request),
    )
    if export.job is not None:
        return redirect("export_detail", slug=membership.organization.slug, job_id=export.job.pk)
    return streamed(export)


def _latency_rows(stats) -> list[tuple[str, float, str]]:
    return [
        (s.label, s.p95_ms, f"{s.p95_ms:,.1f} ms (median {s.p50_ms:,.1f} ms)")
        for s in stats
        if s.p95_ms is not None
    ]


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def usage_tool_calls(request, membership):
    """Tool calls through the gateway: outcomes per day, latency and errors per connector,
    member and tool; the calls themselves export from the usage events."""
    organization = membership.organization
    choices = audit_filter_choices(organization=organization, with_trail=False)
    form = ToolCallPageForm(request.GET, connectors=choices.connectors)
    if not form.is_valid():
        return render(request, "audit/tool_calls.html", {"form": form}, status=400)
    days, connector_id = form.cleaned_data["days"], form.cleaned_data["connector"]
    overview = tool_call_overview(organization=organization, days=days, connector_id=connector_id)
    latency = _latency_rows(overview.by_connector)
    export_query = "kind=tool_call" + (f"&connector={connector_id}" if connector_id else "")
    context = {
        "form": form,
        "days": days,
        "overview": overview,
        "outcome_chart": stacked_columns(overview.days, overview.by_outcome),
        "latency_chart": horizontal_bars(
            latency, maximum=max((row[1] for row in latency), default=0.0)
        ),
        "export_url": reverse("usage_export", args=[organization.slug]),
        "export_query": export_query,
        "events_query": export_query,
    }
    return render(request, "audit/tool_calls.html", context)


@require_POST
@org_view(Role.OWNER)
def tool_call_bodies_setting(request, membership):
    keep = request.POST.get("keep") == "on"
    tool_call_bodies_setting_update(
        organization=membership.organization, actor=Actor.from_request(request), keep=keep
    )
    messages.success(
        request,
        "The gateway now keeps each tool call's arguments and result, redacted of secrets, for "
        "auditors."
        if keep
        else "The gateway no longer keeps tool-call bodies; those kept so far stay until the "
        "usage retention purges them.",
    )
    return redirect("usage_tool_calls", slug=membership.organization.slug)


@require_GET
@org_view(Role.OWNER, Role.MEMBER, Role.AUDITOR)
def tool_call_body_page(request, membership, call_id):
    # Found first, so another organization's call is a 404 whoever asks; then auditors only.
    body = tool_call_body_get(organization=membership.organization, call_id=call_id)
    try:
        require_role(membership, Role.AUDITOR)
    except NotAllowed as refused:
        return render(request, "403.html", {"message": refused.message}, status=403)
    context = {
        "body": body,
        "request_text": _pretty(body.request),
        "response_text": _pretty(body.response),
    }
    return render(request, "audit/tool_call_body.html", context)


def _pretty(kept: dict) -> str:
    if kept.get("truncated"):
        return kept.get("beginning", "")
    return json.dumps(kept.get("value"), indent=2, ensure_ascii=False, default=str)
