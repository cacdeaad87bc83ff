"""The audit trail as owners and auditors read it, and its exports."""

import json

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from orgconnectors.core.actor import Actor
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership
from orgconnectors.reports.export_jobs import export_request
from orgconnectors.reports.export_responses import streamed
from orgconnectors.reports.forms import AuditFilterForm, ExportFormatForm
from orgconnectors.reports.selectors import (
    AuditFilters,
    InvalidCursor,
    audit_event_get,
    audit_events_page,
    audit_filter_choices,
)

Role = Membership.Role
_FILTERS = (
    "actor", "action", "target", "connector", "member", "outcome", "date_from", "date_to",
)  # fmt: skip


def _filter_form(request, organization):
    choices = audit_filter_choices(organization=organization)
    form = AuditFilterForm(
        request.GET,
        actions=choices.actions,
        connectors=choices.connectors,
        members=choices.members,
    )
    return form, choices


def _filters(form) -> AuditFilters:
    return AuditFilters(**{name: form.cleaned_data[name] for name in _FILTERS})


def query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _list_context(request, form, choices, page) -> dict:
    return {
        "form": form,
        "page": page,
        "actor_labels": choices.actor_labels,
        "filtered": any(request.GET.get(name) for name in _FILTERS),
        "query": query_without(request, "cursor"),
        "export_query": query_without(request, "cursor", "format"),
        "older": request.GET.get("cursor"),
    }


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def audit_list(request, membership):
    organization = membership.organization
    form, choices = _filter_form(request, organization)
    page = None
    if form.is_valid():
        try:
            page = audit_events_page(
                organization=organization,
                filters=_filters(form),
                cursor=request.GET.get("cursor"),
                actor_labels=choices.actor_labels,
            )
        except InvalidCursor:
            form.add_error(
                None,
                "The link to older events is damaged or out of date; "
                "start again from the newest events.",
            )
    context = _list_context(request, form, choices, page)
    return render(request, "audit/list.html", context, status=200 if page else 400)


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def audit_export(request, membership):
    """The filtered trail as a file: streamed, or (past the stream limit) prepared by a worker."""
    organization = membership.organization
    form, choices = _filter_form(request, organization)
    fmt = ExportFormatForm(request.GET)
    if not (form.is_valid() and fmt.is_valid()):
        for error in fmt.errors.get("format", []):
            form.add_error(None, error)
        return render(
            request, "audit/list.html", _list_context(request, form, choices, None), status=400
        )
    export = export_request(
        membership=membership,
        source="audit",
        fmt=fmt.cleaned_data["format"],
        filters=_filters(form),
        actor=Actor.from_request(request),
    )
    if export.job is not None:
        return redirect("export_detail", slug=organization.slug, job_id=export.job.pk)
    return streamed(export)


def _shown(value) -> str | None:
    # Lists and objects (tool overrides, suspended connection ids) read better as JSON than as
    # Python's repr; None stays None so the page can say "none".
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _diff_rows(changes) -> list[dict]:
    rows = []
    for field, change in (changes or {}).items():
        if isinstance(change, dict) and set(change) <= {"before", "after"}:
            before, after = change.get("before"), change.get("after")
        else:
            before, after = None, change
        rows.append({"field": field, "before": _shown(before), "after": _shown(after)})
    return rows


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def audit_detail(request, membership, event_id):
    event = audit_event_get(organization=membership.organization, event_id=event_id)
    context = {"event": event, "rows": _diff_rows(event.changes)}
    return render(request, "audit/detail.html", context)
