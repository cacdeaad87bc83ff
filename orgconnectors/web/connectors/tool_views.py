"""Tool governance pages: owners approve or block the tools a connector's server lists (on the
connector's page), and owners and auditors read every change health checks found."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import ToolChange
from orgconnectors.connectors.selectors import connector_get, connectors_of
from orgconnectors.connectors.tool_approvals import (
    StaleToolHash,
    ToolRef,
    tools_approve,
    tools_block,
)
from orgconnectors.connectors.tool_selectors import tool_changes_page
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership
from orgconnectors.web.connectors.tool_diff import definition_diff
from orgconnectors.web.connectors.views import detail_page

Role = Membership.Role

APPROVE, BLOCK, APPROVE_ALL = "approve", "block", "approve_all"


def _refs(values: list[str]) -> list[ToolRef]:
    """Each checkbox's value is "<hash> <name>": the definition the owner saw, and the tool."""
    refs = []
    for value in values:
        seen, _, name = value.partition(" ")
        if not name:
            raise ConnectorError("A tool was sent without its name; reload the page.")
        refs.append(ToolRef(name=name, hash=seen or None))
    return refs


def _done(listing_version: int, action: str, count: int) -> str:
    if not count:
        return "No tool was waiting for review."
    tools = f"{count} tool{'s' if count != 1 else ''}"
    if action == BLOCK:
        return f"Blocked {tools}: members' apps no longer get them (listing {listing_version})."
    return f"Approved {tools}: the approved listing is now version {listing_version}."


@require_POST
@org_view(Role.OWNER)
def connector_tool_review(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    action = request.POST.get("action", "")
    actor = Actor.from_request(request)
    try:
        if action not in (APPROVE, BLOCK, APPROVE_ALL):
            raise ConnectorError("Choose whether to approve or block the tools.")
        if action == APPROVE_ALL:
            refs = _refs(request.POST.getlist("pending"))
            listing = (
                tools_approve(connector=connector, actor=actor, tools=refs)
                if refs
                else tools_approve(connector=connector, actor=actor, every_pending=True)
            )
        else:
            refs = _refs(request.POST.getlist("tools"))
            if not refs:
                raise ConnectorError("Tick at least one tool, then choose approve or block.")
            review = tools_block if action == BLOCK else tools_approve
            listing = review(connector=connector, actor=actor, tools=refs)
    except StaleToolHash as stale:
        error = (
            f"{stale.message.split(';')[0]}. Nothing was approved: read the definition shown "
            "now, then approve it."
        )
        return detail_page(request, membership, connector, review_error=error, status=409)
    except ConnectorError as refused:
        return detail_page(request, membership, connector, review_error=refused.message, status=400)
    messages.success(request, f"{connector.name}: {_done(listing.version, action, len(refs))}")
    return redirect(
        "connector_detail", slug=membership.organization.slug, connector_id=connector.pk
    )


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def tool_changes(request, membership):
    organization = membership.organization
    connector_id = request.GET.get("connector") or None
    state = request.GET.get("state", "")
    try:
        page = tool_changes_page(
            organization=organization,
            connector_id=connector_id,
            state=state,
            cursor=request.GET.get("cursor") or None,
        )
    except ConnectorError as refused:
        messages.error(request, refused.message)
        return redirect("tool_changes", slug=organization.slug)
    context = {
        "changes": [
            (change, definition_diff(change.before, change.after)) for change in page.changes
        ],
        "next_cursor": page.next_cursor,
        "connectors": connectors_of(organization=organization),
        "chosen_connector": str(connector_id or ""),
        "chosen_state": state,
        "states": ToolChange.State.choices,
    }
    return render(request, "connectors/tool_changes.html", context)
