"""Groups: every group of the organization, SCIM's (read-only here: its people change at the
identity provider) and those owners make in the dashboard. Owners only."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.dashboard_groups import (
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_rename,
)
from orgconnectors.identity.selectors import group_get, groups_of
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership

OWNER = Membership.Role.OWNER


def _page(request, membership, *, error: str = "", status: int = 200):
    organization = membership.organization
    context = {
        "groups": groups_of(organization=organization).prefetch_related("connectors"),
        "memberships": organization.memberships.select_related("user").order_by("user__email"),
        "error": error,
    }
    return render(request, "identity/groups.html", context, status=status)


@require_http_methods(["GET", "POST"])
@org_view(OWNER)
def groups(request, membership):
    if request.method == "GET":
        return _page(request, membership)
    try:
        group = group_create(
            organization=membership.organization,
            name=request.POST.get("name", ""),
            actor=Actor.from_request(request),
        )
    except ServiceError as refused:
        return _page(request, membership, error=refused.message, status=400)
    messages.success(request, f"The group “{group.display_name}” is made; add its people.")
    return redirect("groups", slug=membership.organization.slug)


def _act(request, done: str, service, **arguments) -> None:
    """Call `service` as the signed-in owner; its refusal, or `done`, is the next page's message."""
    try:
        service(actor=Actor.from_request(request), **arguments)
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)


@require_POST
@org_view(OWNER)
def group_rename_view(request, membership, group_id):
    group = group_get(organization=membership.organization, group_id=group_id)
    name = request.POST.get("name", "")
    _act(
        request,
        f"“{group.display_name}” is now “{name.strip()}”.",
        group_rename,
        group=group,
        name=name,
    )
    return redirect("groups", slug=membership.organization.slug)


@require_POST
@org_view(OWNER)
def group_delete_view(request, membership, group_id):
    group = group_get(organization=membership.organization, group_id=group_id)
    _act(
        request,
        f"The group “{group.display_name}” is deleted.",
        group_delete,
        group=group,
    )
    return redirect("groups", slug=membership.organization.slug)


@require_POST
@org_view(OWNER)
def group_members_view(request, membership, group_id):
    """Add (action=add) or remove (action=remove) the chosen members of a dashboard group."""
    group = group_get(organization=membership.organization, group_id=group_id)
    chosen = request.POST.getlist("members")
    if request.POST.get("action") == "remove":
        _act(
            request,
            f"Removed from “{group.display_name}”.",
            group_members_remove,
            group=group,
            membership_ids=chosen,
        )
    else:
        _act(
            request,
            f"Added to “{group.display_name}”.",
            group_members_add,
            group=group,
            membership_ids=chosen,
        )
    return redirect("groups", slug=membership.organization.slug)
