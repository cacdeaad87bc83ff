"""Reads about single sign-on: an organization's identity provider, its verified domains, and who
has signed in through it. "Has signed in through SSO to the organization" is recorded by allauth
itself: the SocialAccount made at the first sign-in, whose provider is the organization's
provider id (`org-{slug}` for OpenID Connect, the slug for SAML)."""

from allauth.socialaccount.models import SocialAccount
from django.db.models import Exists, OuterRef

from orgconnectors.identity.domains import verified_claim_for_email
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.sso_apps import oidc_provider_id
from orgconnectors.organizations.models import Membership, Organization


def single_sign_on_of(*, organization: Organization) -> SingleSignOn | None:
    return SingleSignOn.objects.filter(organization=organization).first()


def domain_is_verified_for(*, organization: Organization, email: str) -> bool:
    """Whether the address is in a domain the organization has verified (DNS or operator)."""
    claim = verified_claim_for_email(email=email)
    return claim is not None and claim.organization_id == organization.pk


def sso_provider_ids(organization: Organization) -> list[str]:
    """Every provider id a sign-in through this organization's identity provider is recorded
    under (both protocols: an organization may have switched)."""
    return [oidc_provider_id(organization.slug), organization.slug]


def has_signed_in_through_sso(*, organization: Organization, user) -> bool:
    return SocialAccount.objects.filter(
        user=user, provider__in=sso_provider_ids(organization)
    ).exists()


def members_without_sso(organization: Organization):
    """The organization's memberships whose person has never signed in through its identity
    provider (the preview of "Require single sign-on")."""
    signed_in = SocialAccount.objects.filter(
        user=OuterRef("user"), provider__in=sso_provider_ids(organization)
    )
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .exclude(Exists(signed_in))
        .order_by("user__email")
    )
