"""Who has signed in through an organization's single sign-on."""

from allauth.socialaccount.models import SocialAccount
from django.db.models import Exists, OuterRef, QuerySet

from orgconnectors.organizations.models import Membership, Organization


def sso_provider_ids(organization: Organization) -> list[str]:
    """The allauth provider ids of the organization's app: `org-{slug}` for OpenID Connect, the
    slug itself for SAML."""
    return [f"org-{organization.slug}", organization.slug]


def members_without_sso(organization: Organization) -> QuerySet[Membership]:
    """The memberships whose person has never signed in through the organization's SSO."""
    signed_in = SocialAccount.objects.filter(
        user=OuterRef("user"), provider__in=sso_provider_ids(organization)
    )
    return (
        Membership.objects.filter(organization=organization)
        .exclude(Exists(signed_in))
        .select_related("user")
        .order_by("user__email")
    )
