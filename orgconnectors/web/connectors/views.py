"""Connector pages: the owners' inventory and settings, and every member's own connections."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgconnectors.connectors import (
    call_approvals,
    connections,
    pauses,
    quotas,
    services,
    tool_policy,
)
from orgconnectors.connectors.directory import DIRECTORY, directory_entry
from orgconnectors.connectors.errors import ConnectionLimitReached, ConnectorError
from orgconnectors.connectors.forms import (
    ConnectorEditForm,
    ConnectorForm,
    QuotaForm,
    ToolPolicyForm,
)
from orgconnectors.connectors.group_access import ConnectorAccessRefused
from orgconnectors.connectors.models import ApprovalRequirement, Connection
from orgconnectors.connectors.selectors import (
    connection_usage,
    connector_get,
    connector_members,
    connectors_for_member,
    connectors_of,
)
from orgconnectors.connectors.tool_selectors import pending_tool_change_count, tool_listing_of
from orgconnectors.core.actor import Actor
from orgconnectors.core.form_errors import add_service_error
from orgconnectors.gateway.quotas import (
    UsageUnavailable,
    member_quota_usage,
    members_near_quota,
)
from orgconnectors.gateway.sessions import live_sessions
from orgconnectors.health.selectors import connector_health, health_run_pending
from orgconnectors.identity.selectors import groups_of
from orgconnectors.oauth.handoff import to_authorization_server
from orgconnectors.oauth.selectors import oauth_pin_view
from orgconnectors.oauth.services import oauth_connection_enable
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.selectors import member_get, members_of
from orgconnectors.organizations.services import membership_approver_set
from orgconnectors.web.connectors.tool_diff import review_rows
from orgconnectors.web.oauth.views import browser_session_key

Role = Membership.Role


# The owners' inventory (auditors read it)


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def connector_list(request, membership):
    organization = membership.organization
    connectors = connectors_of(organization=organization)
    # Owners are told on the list when tools wait for their review (auditors see the page).
    pending = pending_tool_change_count(organization=organization) if membership.is_owner else 0
    context = {"connectors": connectors, "pending_tool_changes": pending}
    return render(request, "connectors/list.html", context)


@require_http_methods(["GET", "POST"])
@org_view(Role.OWNER)
def connector_add(request, membership):
    if request.method == "POST":
        form = ConnectorForm(request.POST)
        if form.is_valid():
            try:
                connector = services.connector_register(
                    organization=membership.organization,
                    actor=Actor.from_request(request),
                    **form.cleaned_data,
                )
            except ConnectorError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request, f"{connector.name} was added. Members can connect it now."
                )
                return redirect(
                    "connector_detail",
                    slug=membership.organization.slug,
                    connector_id=connector.pk,
                )
    else:
        entry = directory_entry(request.GET.get("directory", ""))
        initial = {}
        if entry is not None:
            initial = {
                "directory_slug": entry.slug,
                "name": entry.name,
                "url": entry.url,
                "transport": entry.transport,
                "auth": entry.auth,
            }
        form = ConnectorForm(initial=initial)
    context = {
        "form": form,
        "directory": DIRECTORY,
        "chosen": directory_entry(form["directory_slug"].value() or ""),
    }
    return render(request, "connectors/add.html", context, status=400 if form.errors else 200)


def detail_page(request, membership, connector, *, tool_form=None, review_error="", status=200):
    tools = tool_policy.connector_tools(connector)
    if tool_form is None and membership.is_owner:
        tool_form = ToolPolicyForm(connector=connector, tools=tools)
    listing = tool_listing_of(connector)
    context = {
        "connector": connector,
        "tools": tools,
        "tool_form": tool_form,
        # Tool governance: the approved listing and each tool's review (web/connectors/
        # tool_views.py takes the owners' approvals and blocks).
        "tool_listing": listing,
        "tool_rows": review_rows(listing.reviews),
        "review_error": review_error,
        "users": connector_members(connector=connector),
        # Who may connect (web/identity/views.py takes the owners' choice).
        "org_groups": groups_of(organization=membership.organization),
        "access_group_ids": {
            str(pk) for pk in connector.access_groups.values_list("pk", flat=True)
        },
        "health": connector_health(connector=connector),
        "oauth_pin": oauth_pin_view(connector=connector),
        # After "Check now" (?run=): followed on the page until its result is in.
        "pending_run": health_run_pending(
            organization=membership.organization, run_id=request.GET.get("run")
        ),
    }
    return render(request, "connectors/detail.html", context, status=status)


@require_GET
@org_view(Role.OWNER, Role.AUDITOR)
def connector_detail(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    return detail_page(request, membership, connector)


@require_http_methods(["GET", "POST"])
@org_view(Role.OWNER)
def connector_edit(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    if request.method == "POST":
        form = ConnectorEditForm(request.POST)
        if form.is_valid():
            try:
                connector = services.connector_update(
                    connector=connector, actor=Actor.from_request(request), **form.cleaned_data
                )
            except ConnectorError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"{connector.name} was saved.")
                return redirect(
                    "connector_detail",
                    slug=membership.organization.slug,
                    connector_id=connector.pk,
                )
    else:
        form = ConnectorEditForm(
            initial={
                "name": connector.name,
                "transport": connector.transport,
                "auth": connector.auth,
                "oauth_client_id": connector.oauth_client_id,
            }
        )
    context = {"connector": connector, "form": form}
    return render(request, "connectors/edit.html", context, status=400 if form.errors else 200)


@require_POST
@org_view(Role.OWNER)
def connector_tools(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    form = ToolPolicyForm(
        request.POST, connector=connector, tools=tool_policy.connector_tools(connector)
    )
    if form.is_valid():
        try:
            services.connector_set_tool_policy(
                connector=connector,
                actor=Actor.from_request(request),
                default=form.cleaned_data["default"],
                overrides=form.overrides(),
            )
        except ConnectorError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"The tool policy of {connector.name} was saved.")
            return redirect(
                "connector_detail", slug=membership.organization.slug, connector_id=connector.pk
            )
    return detail_page(request, membership, connector, tool_form=form, status=400)


@require_http_methods(["GET", "POST"])
@org_view(Role.OWNER)
def connector_remove(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    if request.method == "POST":
        services.connector_remove(connector=connector, actor=Actor.from_request(request))
        messages.success(request, f"{connector.name} was removed.")
        return redirect("connector_list", slug=membership.organization.slug)
    return render(request, "connectors/remove.html", {"connector": connector})


# Every member's own connections


def _my_connectors_page(request, membership, *, error=None, status=200):
    in_use, limit = connection_usage(membership=membership)
    my_calls = list(call_approvals.member_recent_approvals(membership=membership))
    try:
        quota_usage = member_quota_usage(membership=membership)
    except UsageUnavailable:
        quota_usage = None
    context = {
        "rows": connectors_for_member(membership=membership),
        "in_use": in_use,
        "limit": limit,
        "error": error,
        "my_calls": my_calls,
        "my_calls_waiting": any(c.state == c.State.PENDING for c in my_calls),
        "quota_usage": quota_usage,
    }
    return render(request, "connectors/my_connectors.html", context, status=status)


@require_GET
@org_view(Role.OWNER, Role.MEMBER)
def my_connectors(request, membership):
    return _my_connectors_page(request, membership)


@require_POST
@org_view(Role.OWNER, Role.MEMBER)
def connection_enable(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    try:
        enabled = oauth_connection_enable(
            membership=membership,
            connector=connector,
            session_key=browser_session_key(request),
            actor=Actor.from_request(request),
        )
    except ConnectionLimitReached as refused:
        return _my_connectors_page(request, membership, error=refused.message, status=409)
    except ConnectorAccessRefused as refused:
        return _my_connectors_page(request, membership, error=refused.message, status=403)
    except ConnectorError as refused:
        return _my_connectors_page(request, membership, error=refused.message, status=400)
    if enabled.authorize_url:
        return to_authorization_server(
            request, enabled.authorize_url, connector_name=connector.name
        )
    connection = enabled.connection
    if connection.state == Connection.State.NEEDS_AUTHORIZATION:
        # Connected, but the authorization could not start: say why, next to Authorize.
        messages.error(request, f"{connector.name}: {enabled.reason or connection.state_reason}")
    else:
        messages.success(request, f"{connector.name} is connected.")
    return redirect("my_connectors", slug=membership.organization.slug)


@require_POST
@org_view(Role.OWNER, Role.MEMBER)
def connection_disable(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    try:
        connections.connection_disable(
            membership=membership, connector=connector, actor=Actor.from_request(request)
        )
    except ConnectorError as refused:
        return _my_connectors_page(request, membership, error=refused.message, status=400)
    messages.success(request, f"{connector.name} is disconnected.")
    return redirect("my_connectors", slug=membership.organization.slug)


# Tool-call quotas (owners)


def _quota_page(request, membership, form=None, *, status=200):
    organization = membership.organization
    connectors = list(connectors_of(organization=organization))
    per_minute, per_day = quotas.plan_default(organization)
    try:
        near = members_near_quota(organization=organization)
    except UsageUnavailable:
        near = None
    context = {
        "near": near,
        "quotas": quotas.quotas_of(organization=organization),
        "plan_default": {"per_minute": per_minute, "per_day": per_day},
        "form": form or QuotaForm(connectors=connectors),
    }
    return render(request, "connectors/quotas.html", context, status=status)


@require_http_methods(["GET", "POST"])
@org_view(Role.OWNER)
def quota_list(request, membership):
    if request.method == "GET":
        return _quota_page(request, membership)
    organization = membership.organization
    form = QuotaForm(request.POST, connectors=connectors_of(organization=organization))
    if not form.is_valid():
        return _quota_page(request, membership, form, status=400)
    data = form.cleaned_data
    connector = None
    if data["connector"] is not None:
        connector = connector_get(organization=organization, connector_id=data["connector"])
    try:
        quota = quotas.quota_set(
            organization=organization,
            actor=Actor.from_request(request),
            connector=connector,
            tool_name=data["tool_name"],
            per_minute=data["per_minute"],
            per_day=data["per_day"],
        )
    except ConnectorError as error:
        add_service_error(form, error)
        return _quota_page(request, membership, form, status=400)
    messages.success(request, f"The quota of {quota.scope_label} is saved.")
    return redirect("quota_list", slug=organization.slug)


@require_POST
@org_view(Role.OWNER)
def quota_delete(request, membership, quota_id):
    quota = quotas.quota_get(organization=membership.organization, quota_id=quota_id)
    quotas.quota_remove(quota=quota, actor=Actor.from_request(request))
    messages.success(request, f"The quota of {quota.scope_label} is removed.")
    return redirect("quota_list", slug=membership.organization.slug)


# The gateway's live view and kill switch (owners)


@require_GET
@org_view(Role.OWNER)
def gateway_live(request, membership):
    organization = membership.organization
    connectors = {c.pk: c for c in connectors_of(organization=organization)}
    sessions = live_sessions(organization_id=organization.pk)
    people = {
        m.pk: m
        for m in Membership.objects.filter(
            organization=organization, pk__in={s.membership_id for s in sessions}
        ).select_related("user")
    }
    rows = [
        {
            "session": session,
            "member": people[session.membership_id],
            "connector": connectors.get(session.connector_id),
        }
        for session in sessions
        if session.membership_id in people
        and (session.connector_id is None or session.connector_id in connectors)
    ]
    context = {
        "rows": rows,
        "connectors": list(connectors.values()),
        "window_minutes": settings.ORGCONNECTORS_GATEWAY_SESSION_WINDOW_SECONDS // 60,
        "hold_minutes": settings.ORGCONNECTORS_GATEWAY_SESSION_HOLD_SECONDS // 60,
    }
    return render(request, "connectors/gateway_live.html", context)


@require_POST
@org_view(Role.OWNER)
def connector_pause(request, membership, connector_id):
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    paused = request.POST.get("paused") == "true"
    pauses.connector_pause(connector=connector, actor=Actor.from_request(request), paused=paused)
    if paused:
        messages.success(request, f"{connector.name} is paused: every member's calls are refused.")
    else:
        messages.success(request, f"{connector.name} is resumed.")
    return redirect("gateway_live", slug=membership.organization.slug)


@require_POST
@org_view(Role.OWNER)
def gateway_session_end(request, membership):
    organization = membership.organization
    if not request.POST.get("member_id"):
        messages.error(request, "Choose the session to end: no member was named.")
        return redirect("gateway_live", slug=organization.slug)
    member = member_get(organization=organization, member_id=request.POST.get("member_id"))
    connector = None
    if request.POST.get("connector_id"):
        connector = connector_get(
            organization=organization, connector_id=request.POST["connector_id"]
        )
    pauses.gateway_session_end(
        organization=organization,
        membership=member,
        connector=connector,
        actor=Actor.from_request(request),
    )
    messages.success(
        request,
        f"{member.user.email}'s session is ended: their calls"
        f"{' on ' + connector.name if connector else ''} are refused for "
        f"{settings.ORGCONNECTORS_GATEWAY_SESSION_HOLD_SECONDS // 60} minutes.",
    )
    return redirect("gateway_live", slug=organization.slug)


# Calls waiting for an approver (owners, and members an owner named)


def _not_an_approver(request, membership):
    message = (
        "Only owners and the members they name as approvers answer calls waiting for approval; "
        f"your role in {membership.organization.name} is "
        f"{membership.get_role_display().lower()}, not named an approver."
    )
    return render(request, "403.html", {"message": message}, status=403)


@require_GET
@org_view(Role.OWNER, Role.MEMBER)
def approval_list(request, membership):
    """The live list (htmx asks for the list again every 2 s)."""
    if not membership.can_approve:
        return _not_an_approver(request, membership)
    context = {"approvals": call_approvals.pending_approvals(organization=membership.organization)}
    partial = bool(request.headers.get("HX-Request"))
    if not partial and membership.is_owner:
        organization = membership.organization
        context["connectors"] = list(connectors_of(organization=organization))
        context["requirements"] = ApprovalRequirement.objects.filter(
            connector__organization=organization
        ).select_related("connector")
        context["members"] = [
            member for member in members_of(organization=organization) if member.role == Role.MEMBER
        ]
    template = "connectors/_approvals.html" if partial else "connectors/approvals.html"
    return render(request, template, context)


@require_POST
@org_view(Role.OWNER)
def approval_approver(request, membership, member_id):
    """Owners name a member as an approver, or no longer."""
    member = member_get(organization=membership.organization, member_id=member_id)
    approver = request.POST.get("approver") == "true"
    try:
        membership_approver_set(
            membership=member, approver=approver, actor=Actor.from_request(request)
        )
    except OrganizationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"{member.user.email} {'now answers' if approver else 'no longer answers'} "
            "calls waiting for approval.",
        )
    return redirect("approval_list", slug=membership.organization.slug)


@require_POST
@org_view(Role.OWNER)
def approval_settings(request, membership):
    """Owners mark a tool as needing approval (or not), or change the timeout."""
    organization = membership.organization
    actor = Actor.from_request(request)
    try:
        if request.POST.get("timeout_seconds"):
            call_approvals.approval_timeout_set(
                organization=organization,
                seconds=int(request.POST["timeout_seconds"]),
                actor=actor,
            )
            messages.success(request, "The approval timeout is saved.")
        else:
            connector = connector_get(
                organization=organization, connector_id=request.POST.get("connector_id")
            )
            tool_name = (request.POST.get("tool_name") or "").strip()
            if not tool_name:
                raise ConnectorError("Name the tool.", field="tool_name")
            required = request.POST.get("required") != "false"
            call_approvals.approval_requirement_set(
                connector=connector, tool_name=tool_name, required=required, actor=actor
            )
            messages.success(
                request,
                f"Calls of {tool_name} on {connector.name} "
                f"{'now wait for approval' if required else 'no longer wait for approval'}.",
            )
    except (ConnectorError, ValueError) as error:
        messages.error(request, str(error) or "Give the timeout in whole seconds.")
    return redirect("approval_list", slug=organization.slug)


@require_POST
@org_view(Role.OWNER, Role.MEMBER)
def approval_decide(request, membership, approval_id):
    if not membership.can_approve:
        return _not_an_approver(request, membership)
    approval = call_approvals.approval_get(
        organization=membership.organization, approval_id=approval_id
    )
    allow = request.POST.get("decision") == "allow"
    decided = call_approvals.call_approval_decide(
        approval=approval, allow=allow, actor=Actor.from_request(request)
    )
    if decided.state == decided.State.TIMED_OUT:
        messages.error(request, "Too late: no answer came in time, so the call was refused.")
    elif decided.state == (decided.State.ALLOWED if allow else decided.State.DENIED):
        messages.success(request, f"The call of {decided.tool_name} is {decided.state}.")
    else:
        messages.error(request, f"The call of {decided.tool_name} was already {decided.state}.")
    return redirect("approval_list", slug=membership.organization.slug)
