"""Pages: "Use with the API" (the member's configuration, examples, Claude Code), the migration
of requests from the deprecated beta, and the organization's retention setting."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from orgconnectors.core.actor import Actor
from orgconnectors.messages_api import examples
from orgconnectors.messages_api.beta_upgrade import MigrationInvalid, migrate_text
from orgconnectors.messages_api.builder import (
    BETA_2025_11_20,
    BETA_2026_09_15,
    DEFAULT_BETA,
    DEPRECATED_BETA,
)
from orgconnectors.messages_api.forms import MigrateRequestForm, RetentionForm
from orgconnectors.messages_api.selectors import MASK, claude_code_commands
from orgconnectors.messages_api.services import (
    UnknownBeta,
    beta_chosen,
    messages_api_config_preview,
    messages_api_tokens_reveal,
)
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.organization_settings import organization_settings_update

Role = Membership.Role

BETA_CHOICES = [
    (BETA_2026_09_15, "the approved tool definitions pinned in the request (recommended)"),
    (BETA_2025_11_20, "an allowlist of the approved tools; descriptions from the live servers"),
]


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


# The page that can show tokens must not be kept by a browser or proxy cache.
@never_cache
@require_http_methods(["GET", "POST"])
@org_view(Role.OWNER, Role.MEMBER)
def messages_api_config(request, membership):
    """GET shows the configuration with tokens masked; POST ("Reveal tokens") shows them. Both
    are written for the beta chosen on the page (`beta`, the default when absent)."""
    asked = request.POST.get("beta") if request.method == "POST" else request.GET.get("beta")
    try:
        beta, beta_error = beta_chosen(asked), None
    except UnknownBeta as unknown:
        beta, beta_error = DEFAULT_BETA, unknown.message
    if request.method == "POST" and beta_error is None:
        config = messages_api_tokens_reveal(
            membership=membership, actor=Actor.from_request(request), beta=beta
        )
    else:
        config = messages_api_config_preview(membership=membership, beta=beta)
    slug = membership.organization.slug
    base_url = settings.ORGCONNECTORS_BASE_URL
    context = {
        "config": config,
        "beta": beta,
        "pinned": beta == BETA_2026_09_15,
        "betas": BETA_CHOICES,
        "beta_error": beta_error,
        "revealed": request.method == "POST" and beta_error is None,
        "has_tokens": any("authorization_token" in s for s in config["mcp_servers"]),
        "mask": MASK,
        "headers_json": _pretty(config["headers"]),
        "servers_json": _pretty({"mcp_servers": config["mcp_servers"], "tools": config["tools"]}),
        "config_url": examples.config_url(base_url, slug, beta),
        "curl_config": examples.curl_config(base_url, slug, beta),
        "curl_messages": examples.curl_messages(config),
        "python_fetching": examples.python_fetching(base_url, slug, beta),
        "python_inline": examples.python_inline(config),
        "claude_code": claude_code_commands(membership=membership),
    }
    status = 400 if beta_error else 200
    return render(request, "messages_api/config.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def mcp_request_migrate(request):
    form = MigrateRequestForm(request.POST or None)
    migrated = errors = None
    if request.method == "POST" and form.is_valid():
        try:
            migrated = migrate_text(form.cleaned_data["request_body"])
        except MigrationInvalid as invalid:
            errors = invalid.errors
    context = {
        "form": form,
        "migrated": migrated,
        "migrated_json": _pretty(migrated.request) if migrated else "",
        "path_errors": errors,
        "old_beta": DEPRECATED_BETA,
        "new_beta": BETA_2025_11_20,
    }
    status = 400 if form.errors or errors else 200
    return render(request, "messages_api/migrate.html", context, status=status)


@require_POST
@org_view(Role.OWNER)
def organization_zdr(request, membership):
    form = RetentionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether zero data retention is required.")
        return redirect("plan", slug=membership.organization.slug)
    organization = organization_settings_update(
        organization=membership.organization,
        zero_data_retention=form.cleaned_data["requires_zero_data_retention"],
        actor=Actor.from_request(request),
    )
    if organization.requires_zero_data_retention:
        messages.success(
            request,
            f"{organization.name} now requires zero data retention: owners confirm, for each new "
            "connector, that its traffic is not covered.",
        )
    else:
        messages.success(request, f"{organization.name} no longer requires zero data retention.")
    return redirect("plan", slug=membership.organization.slug)
