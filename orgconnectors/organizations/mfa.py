"""The organization's two-factor requirement: who must activate an authenticator before acting."""

from allauth.mfa.utils import is_mfa_enabled

from orgconnectors.organizations.models import Membership

Role = Membership.Role


def mfa_missing(membership: Membership) -> bool:
    """True when the organization requires two-factor authentication of this member's role and
    they have not activated an authenticator yet."""
    organization = membership.organization
    if not organization.require_mfa_for_owners_and_auditors:
        return False
    if membership.role not in (Role.OWNER, Role.AUDITOR):
        return False
    return not is_mfa_enabled(membership.user)


def mfa_missing_message(membership: Membership) -> str:
    return (
        f"{membership.organization.name} requires two-factor authentication for owners and "
        "auditors: activate an authenticator app under Two-factor authentication "
        "(/accounts/2fa/), then try again."
    )
