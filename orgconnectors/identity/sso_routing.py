"""Which identity provider a person is sent to from the login page, by their email's domain."""

from django.conf import settings
from django.urls import reverse

from orgconnectors.identity.domains import verified_claim_for_email
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.sso_apps import oidc_provider_id


def single_sign_on_for_email(email: str) -> SingleSignOn | None:
    """The SingleSignOn of the organization that has verified the address's domain, if any."""
    claim = verified_claim_for_email(email=email or "")
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


def sso_endpoints(organization) -> dict[str, str]:
    """What owners register at their identity provider: the OpenID Connect redirect URI, and for
    SAML the assertion consumer service URL and the service provider's entity id (its metadata
    URL, as allauth's SAML provider names itself by default)."""
    base = settings.ORGCONNECTORS_BASE_URL.rstrip("/")
    slug = organization.slug
    metadata = base + reverse("saml_metadata", kwargs={"organization_slug": slug})
    return {
        "oidc_redirect_uri": base
        + reverse("openid_connect_callback", kwargs={"provider_id": oidc_provider_id(slug)}),
        "saml_acs_url": base + reverse("saml_acs", kwargs={"organization_slug": slug}),
        "saml_entity_id": metadata,
        "saml_metadata_url": metadata,
    }
