"""Personal API tokens: each person manages their own, in each organization."""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from orgconnectors.api import tokens
from orgconnectors.api.forms import ApiTokenForm
from orgconnectors.api.scopes import scopes_for_role
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.core.form_errors import add_service_error
from orgconnectors.organizations.access import org_view


# The page that shows a new token must not be kept by a browser or proxy cache.
@never_cache
@require_http_methods(["GET", "POST"])
@org_view()
def api_token_list(request, membership):
    allowed = scopes_for_role(membership.role)
    form = ApiTokenForm(request.POST or None, allowed_scopes=allowed)
    new_token = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            api_token, new_token = tokens.api_token_create(
                membership=membership,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                actor=Actor.from_request(request),
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            form = ApiTokenForm(allowed_scopes=allowed)
    context = {
        "tokens": tokens.api_tokens_of(membership=membership),
        "form": form,
        "new_token": new_token,
        "now": timezone.now(),
    }
    status = 400 if form.errors else 200
    return render(request, "api/token_list.html", context, status=status)


@require_POST
@org_view()
def api_token_revoke(request, membership, token_id):
    api_token = get_object_or_404(tokens.api_tokens_of(membership=membership), pk=token_id)
    tokens.api_token_revoke(api_token=api_token, actor=Actor.from_request(request))
    messages.success(request, f"The token “{api_token.name}” no longer works.")
    return redirect("api_token_list", slug=membership.organization.slug)
