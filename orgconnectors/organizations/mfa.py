"""The organization's two-factor requirement: who must activate an authenticator, and sign in
with it, before acting."""

from allauth.account.authentication import get_authentication_records
from allauth.mfa.utils import is_mfa_enabled

from orgconnectors.organizations.models import Membership

Role = Membership.Role
REQUIRING_ROLES = (Role.OWNER, Role.AUDITOR)


def mfa_required(membership: Membership) -> bool:
    """True when the organization requires two-factor authentication of this member's role."""
    return (
        membership.organization.require_mfa_for_owners_and_auditors
        and membership.role in REQUIRING_ROLES
    )


def mfa_missing(membership: Membership) -> bool:
    """True when the organization requires two-factor authentication of this member's role and
    they have not activated an authenticator yet."""
    return mfa_required(membership) and not is_mfa_enabled(membership.user)


def session_passed_mfa(request, user) -> bool:
    """Whether this very session was signed in (or re-authenticated) with a second factor:
    allauth records each method a session used, and an account that has an authenticator may
    still have signed in with its password alone (before the requirement, or by a path that
    skipped the second step)."""
    records = get_authentication_records(request, user)
    return any(record.get("method") == "mfa" for record in records)


def mfa_session_missing(membership: Membership, request) -> bool:
    """True when the requirement applies, an authenticator is active, and this session has not
    passed it."""
    return mfa_required(membership) and not session_passed_mfa(request, membership.user)


def mfa_missing_message(membership: Membership) -> str:
    return (
        f"{membership.organization.name} requires two-factor authentication for owners and "
        "auditors: activate an authenticator app under Two-factor authentication "
        "(/accounts/2fa/), then try again."
    )


def mfa_session_message(membership: Membership) -> str:
    return (
        f"{membership.organization.name} requires two-factor authentication for owners and "
        "auditors, and this session was signed in without it: confirm with your authenticator "
        "app (/accounts/2fa/reauthenticate/), then try again."
    )
