"""The caller, their organization and their role: every endpoint starts here."""

from dataclasses import replace

from django.http import Http404, HttpRequest

from orgconnectors.api.models import ApiToken
from orgconnectors.audit.context import Actor
from orgconnectors.errors import NotAllowed
from orgconnectors.organizations.mfa import mfa_missing, mfa_missing_message
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.selectors import membership_for, require_role

Role = Membership.Role
OWNER = Role.OWNER
MEMBER = Role.MEMBER
AUDITOR = Role.AUDITOR


def _token(request: HttpRequest) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def caller_membership(request: HttpRequest, org: str, *roles: str) -> Membership:
    """The caller's membership in `org`: 404 when it is not theirs (or not their token's),
    403 when their role is not one of `roles` (any role when none are given) or when the
    organization requires two-factor authentication they have not activated."""
    token = _token(request)
    if token is not None:
        if token.organization.slug != org:
            raise Http404("No such organization")
        user = token.user
    else:
        user = request.auth
    membership = membership_for(user=user, slug=org)
    if mfa_missing(membership):
        raise NotAllowed(mfa_missing_message(membership))
    if roles:
        require_role(membership, *roles)
    return membership


def caller_actor(request: HttpRequest) -> Actor:
    # Ninja authenticates without setting request.user, so a token's user is put in by hand.
    actor = Actor.from_request(request)
    token = _token(request)
    return replace(actor, user=token.user) if token is not None else actor
