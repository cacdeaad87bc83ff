"""The audit trail as owners and auditors read it."""

import json

from django.shortcuts import render
from django.views.decorators.http import require_GET

from orgconnectors.audit.forms import AuditFilterForm
from orgconnectors.audit.selectors import (
    AuditFilters,
    InvalidCursor,
    audit_actions,
    audit_event_get,
    audit_events_page,
)
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership

Role = Membership.Role
_FILTERS = ("actor", "action", "target", "date_from", "date_to")


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def audit_list(request, membership):
    organization = membership.organization
    form = AuditFilterForm(request.GET, actions=audit_actions(organization=organization))
    page = None
    if form.is_valid():
        filters = AuditFilters(**{name: form.cleaned_data[name] for name in _FILTERS})
        try:
            page = audit_events_page(
                organization=organization, filters=filters, cursor=request.GET.get("cursor")
            )
        except InvalidCursor:
            form.add_error(
                None,
                "The link to older events is damaged or out of date; "
                "start again from the newest events.",
            )
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "page": page,
        "filtered": any(request.GET.get(name) for name in _FILTERS),
        "query": query.urlencode(),
        "older": request.GET.get("cursor"),
    }
    return render(request, "audit/list.html", context, status=200 if page else 400)


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
