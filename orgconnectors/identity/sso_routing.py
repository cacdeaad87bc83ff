"""Which identity provider a person is sent to from the login page, by their email's domain."""

from django.urls import reverse

from orgconnectors.identity.models import ClaimedDomain, SingleSignOn
from orgconnectors.identity.sso_apps import oidc_provider_id
from orgconnectors.identity.sso_selectors import email_domain


def single_sign_on_for_email(email: str) -> SingleSignOn | None:
    """The SingleSignOn of the organization that has verified the address's domain, if any."""
    domain = email_domain(email or "")
    if not domain:
        return None
    claim = (
        ClaimedDomain.objects.filter(domain__iexact=domain, verified_at__isnull=False)
        .select_related("organization")
        .first()
    )
    if claim is None:
        return None
    return (
        SingleSignOn.objects.filter(organization=claim.organization)
        .select_related("organization")
        .first()
    )


def sso_login_url(sso: SingleSignOn) -> str:
    """allauth's login URL of the organization's provider (it starts the sign-in on a POST)."""
    slug = sso.organization.slug
    if sso.protocol == SingleSignOn.Protocol.OIDC:
        return reverse("openid_connect_login", kwargs={"provider_id": oidc_provider_id(slug)})
    return reverse("saml_login", kwargs={"organization_slug": slug})


def sso_login_url_for_email(email: str) -> str | None:
    """The login URL of the identity provider for this address, or None when no organization
    with single sign-on has verified its domain."""
    sso = single_sign_on_for_email(email)
    return sso_login_url(sso) if sso is not None else None
