"""Sign-in: the organization's SCIM provisioning (its endpoint, its tokens, who and which groups
it provisioned). Owners only."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.scim_tokens import scim_token_create, scim_token_revoke, scim_tokens_of
from orgconnectors.identity.selectors import scim_groups_of, scim_users_of
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership


# The page that shows a new token must not be kept by a browser or proxy cache.
@never_cache
@require_http_methods(["GET", "POST"])
@org_view(Membership.Role.OWNER)
def sign_in_settings(request, membership):
    organization = membership.organization
    new_token = None
    error = None
    status = 200
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
        "scim_groups": scim_groups_of(organization=organization),
        "new_token": new_token,
        "error": error,
    }
    return render(request, "identity/sign_in.html", context, status=status)
