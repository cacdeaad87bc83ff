"""Single sign-on in the dashboard: owners configure the organization's identity provider on the
Sign-in page (its partial _sso.html), and the login page sends a person to the provider of the
organization that has verified their email's domain."""

from urllib.parse import urlsplit

import requests
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.domains import email_domain
from orgconnectors.identity.sso_apps import provider_id_for
from orgconnectors.identity.sso_middleware import provider_unreachable
from orgconnectors.identity.sso_routing import single_sign_on_for_email, sso_endpoints
from orgconnectors.identity.sso_selectors import single_sign_on_of
from orgconnectors.identity.sso_settings import sso_configure, sso_remove
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership

DEFAULT_ROLES = [(Membership.Role.MEMBER, "Member"), (Membership.Role.AUDITOR, "Auditor")]


def sso_context(organization) -> dict:
    """What the Sign-in page's single sign-on section shows (never the secret)."""
    return {
        "sso": single_sign_on_of(organization=organization),
        "sso_endpoints": sso_endpoints(organization),
        "sso_default_roles": DEFAULT_ROLES,
    }


@require_POST
@org_view(Membership.Role.OWNER)
def sso_settings_save(request, membership):
    organization = membership.organization
    post = request.POST
    protocol = post.get("protocol", "")
    try:
        sso_configure(
            organization=organization,
            protocol=protocol,
            issuer=post.get("issuer") if protocol == "oidc" else None,
            client_id=post.get("client_id") if protocol == "oidc" else None,
            client_secret=post.get("client_secret") if protocol == "oidc" else None,
            metadata_url=post.get("metadata_url") if protocol == "saml" else None,
            metadata_xml=post.get("metadata_xml") if protocol == "saml" else None,
            saml_entity_id=post.get("saml_idp_entity_id") if protocol == "saml" else None,
            default_role=post.get("default_role") or None,
            actor=Actor.from_request(request),
        )
    except ServiceError as refused:
        messages.error(request, f"Single sign-on is not saved: {refused.message}")
    else:
        messages.success(request, "Single sign-on is saved.")
    return redirect("sign_in_settings", slug=organization.slug)


@require_POST
@org_view(Membership.Role.OWNER)
def sso_settings_remove(request, membership):
    sso_remove(organization=membership.organization, actor=Actor.from_request(request))
    messages.success(request, "Single sign-on is off: people sign in with their password.")
    return redirect("sign_in_settings", slug=membership.organization.slug)


@require_POST
def sso_login(request):
    """The login page's "Sign in with single sign-on": straight to the identity provider of the
    organization that has verified the address's domain."""
    email = (request.POST.get("email") or "").strip()
    sso = single_sign_on_for_email(email) if "@" in email else None
    if sso is None:
        domain = email_domain(email) if "@" in email else ""
        if domain:
            message = (
                f"No organization signs in with single sign-on for {domain}; use your password."
            )
        else:
            message = "Type your work email address to sign in with single sign-on."
        context = {"message": message, "title": "No single sign-on for this address"}
        return render(request, "identity/sso_refused.html", context, status=400)
    provider = get_social_adapter().get_provider(request, provider_id_for(sso))
    try:
        response = provider.redirect_from_request(request)
    except requests.RequestException as unreachable:
        return provider_unreachable(request, sso.organization, unreachable)
    location = response.get("Location") if response.status_code in (301, 302, 303) else None
    if not location:
        return response
    # Not a redirect: the Content-Security-Policy's form-action 'self' also covers the
    # redirects that follow a form's submission (as in oauth/handoff.py), so the browser is
    # handed a page that goes on to the identity provider by itself.
    context = {
        "organization": sso.organization,
        "url": location,
        "host": urlsplit(location).hostname or location,
    }
    handoff = render(request, "identity/sso_handoff.html", context)
    handoff["Refresh"] = f"0;url={location}"
    # The address carries the sign-in's state: no cache keeps it.
    add_never_cache_headers(handoff)
    return handoff
