"""The Sign-in page's domains and "Require single sign-on" sections (owners): claim a domain
and see the TXT record that proves it, verify it now, release it; preview and confirm requiring
single sign-on. Each form posts here and returns to the page with the outcome."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.domains import (
    challenge_record,
    domain_claim,
    domain_get,
    domain_release,
    domain_verify,
    domains_of,
)
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.require_sso import require_sso_preview, require_sso_set
from orgconnectors.organizations.access import org_view
from orgconnectors.organizations.models import Membership


def sign_in_sections(organization) -> dict:
    """The context of the two sections, for the Sign-in page."""
    sso = SingleSignOn.objects.filter(organization=organization).first()
    return {
        "claimed_domains": [
            (claimed, challenge_record(claimed))
            for claimed in domains_of(organization=organization)
        ],
        "single_sign_on": sso,
        "require_sso_preview": require_sso_preview(organization=organization) if sso else None,
    }


def _back(membership, anchor: str):
    url = reverse("sign_in_settings", kwargs={"slug": membership.organization.slug})
    return redirect(f"{url}#{anchor}")


@require_POST
@org_view(Membership.Role.OWNER)
def domain_claim_view(request, membership):
    try:
        claimed, record = domain_claim(
            organization=membership.organization,
            domain=request.POST.get("domain", ""),
            actor=Actor.from_request(request),
        )
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            f"{claimed.domain} is claimed. Publish the TXT record shown below, then verify it.",
        )
    return _back(membership, "domains-title")


@require_POST
@org_view(Membership.Role.OWNER)
def domain_verify_view(request, membership, domain_id):
    claimed = domain_get(organization=membership.organization, domain_id=domain_id)
    try:
        claimed = domain_verify(claimed_domain=claimed, actor=Actor.from_request(request))
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"{claimed.domain} is verified.")
    return _back(membership, "domains-title")


@require_POST
@org_view(Membership.Role.OWNER)
def domain_release_view(request, membership, domain_id):
    claimed = domain_get(organization=membership.organization, domain_id=domain_id)
    try:
        domain_release(claimed_domain=claimed, actor=Actor.from_request(request))
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"{claimed.domain} is released.")
    return _back(membership, "domains-title")


@require_POST
@org_view(Membership.Role.OWNER)
def require_sso_view(request, membership):
    required = request.POST.get("require_sso") == "true"
    try:
        require_sso_set(
            organization=membership.organization,
            required=required,
            actor=Actor.from_request(request),
        )
    except ServiceError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            "Single sign-on is required: passwords no longer sign members in."
            if required
            else "Single sign-on is no longer required: members may sign in with a password.",
        )
    return _back(membership, "require-sso-title")
