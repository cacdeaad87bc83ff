"""Sign-in: the organization's SCIM provisioning (its endpoint, its tokens, who and which groups
it provisioned). Owners only."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from orgconnectors.connectors.group_access import connector_access_set
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.group_roles import group_role_preview, group_role_set
from orgconnectors.identity.scim_tokens import scim_token_create, scim_token_revoke, scim_tokens_of
from orgconnectors.identity.selectors import groups_of, scim_users_of
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership
from orgconnectors.web.identity.domains import sign_in_sections
from orgconnectors.web.identity.sso import sso_context


# The page that shows a new token must not be kept by a browser or proxy cache.
@never_cache
@require_http_methods(["GET", "POST"])
@org_view(Membership.Role.OWNER)
def sign_in_settings(request, membership):
    organization = membership.organization
    new_token = None
    error = None
    status = 200
    groups = groups_of(organization=organization)
    if request.method == "POST" and "group" in request.POST:
        group = _group(groups, request.POST["group"])
        try:
            group_role_set(
                group=group, role=request.POST.get("role", ""), actor=Actor.from_request(request)
            )
        except ServiceError as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, f"The group “{group.display_name}”'s role is saved.")
        return redirect("sign_in_settings", slug=organization.slug)
    preview = None
    if request.method == "GET" and "group" in request.GET:
        group = _group(groups, request.GET["group"])
        role = request.GET.get("role", "")
        preview = {
            "group": group,
            "role": role,
            "changes": group_role_preview(group=group, role=role) if role else [],
        }
    if request.method == "POST":
        revoke = request.POST.get("revoke")
        if revoke:
            token = get_object_or_404(
                scim_tokens_of(organization=organization), pk=revoke if revoke.isdigit() else 0
            )
            scim_token_revoke(token=token, actor=Actor.from_request(request))
            messages.success(request, f"The SCIM token “{token.name}” no longer works.")
            return redirect("sign_in_settings", slug=organization.slug)
        try:
            _token, new_token = scim_token_create(
                organization=organization,
                name=request.POST.get("name", ""),
                actor=Actor.from_request(request),
            )
        except ServiceError as refused:
            error, status = refused.message, 400
    context = {
        "scim_base_url": f"{settings.ORGCONNECTORS_BASE_URL}/scim/v2/{organization.slug}/",
        "scim_tokens": scim_tokens_of(organization=organization),
        "scim_users": scim_users_of(organization=organization).select_related("user"),
        "scim_groups": groups,
        "preview": preview,
        "roles": [("", "No role"), *Membership.Role.choices],
        "new_token": new_token,
        "error": error,
        **sso_context(organization),
        **sign_in_sections(organization),
    }
    return render(request, "identity/sign_in.html", context, status=status)


def _group(groups, group_id: str):
    """The organization's group by its SCIM id: 404 when absent or another organization's."""
    for group in groups:
        if str(group.pk) == group_id:
            return group
    raise Http404("No such group.")


@require_POST
@org_view(Membership.Role.OWNER)
def connector_access(request, membership, connector_id):
    """Who may connect a connector (its page's form): everyone, or the chosen groups."""
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    try:
        connector_access_set(
            connector=connector,
            who_may_connect=request.POST.get("who_may_connect", ""),
            group_ids=request.POST.getlist("groups"),
            actor=Actor.from_request(request),
        )
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Who may connect {connector.name} is saved.")
    return redirect(
        "connector_detail", slug=membership.organization.slug, connector_id=connector.pk
    )
