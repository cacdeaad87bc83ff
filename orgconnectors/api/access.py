"""The caller, their organization, their role and their token's scopes: every endpoint starts
here."""

from dataclasses import replace
from functools import wraps

from django.http import Http404, HttpRequest
from ninja.utils import contribute_operation_callback

from orgconnectors.api.models import ApiToken
from orgconnectors.api.scopes import ANY_SCOPE, SCOPES, roles_allowing
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import NotAllowed
from orgconnectors.organizations.mfa import (
    mfa_missing,
    mfa_missing_message,
    mfa_session_message,
    mfa_session_missing,
)
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.selectors import membership_for, require_role

Role = Membership.Role
OWNER = Role.OWNER
MEMBER = Role.MEMBER
AUDITOR = Role.AUDITOR


class ScopeMissing(NotAllowed):
    def __init__(self, scope: str) -> None:
        super().__init__(
            f"This token lacks the `{scope}` scope. Create a token with it on the "
            "organization's API tokens page (your role must allow it)."
        )


def caller_token(request: HttpRequest) -> ApiToken | None:
    auth = getattr(request, "auth", None)  # absent on endpoints open to anyone (auth=None)
    return auth if isinstance(auth, ApiToken) else None


def needs_scope(scope: str):
    """Declare the token scope an endpoint needs (`ANY_SCOPE` for one any token may call), put
    under the route decorator. A token without it is refused with a 403 that names it before the
    endpoint runs; the session is limited by its role alone. Every operation must declare one:
    tests/api/test_token_scopes.py walks the routes."""
    if scope not in (*SCOPES, ANY_SCOPE):
        raise ValueError(f"{scope!r} is not a scope")

    def decorator(view):
        def checked(view_func):
            @wraps(view_func)
            def wrapper(request, *args, **kwargs):
                token = caller_token(request)
                if token is not None and scope != ANY_SCOPE and scope not in token.scopes:
                    _refuse_scope(token, scope)
                return view_func(request, *args, **kwargs)

            wrapper.api_scope = scope
            return wrapper

        def contribute(operation) -> None:
            # Ninja has read the signature by now; only the call is wrapped.
            operation.view_func = checked(operation.view_func)
            extra = dict(operation.openapi_extra or {})
            extra["x-token-scope"] = scope
            operation.openapi_extra = extra

        contribute_operation_callback(view, contribute)
        return view

    return decorator


def _refuse_scope(token: ApiToken, scope: str) -> None:
    # When the holder's role could never have the scope, the role is the reason worth giving.
    membership = Membership.objects.filter(user=token.user, organization=token.organization).first()
    if membership is not None:
        require_role(membership, *roles_allowing(scope))
    raise ScopeMissing(scope)


def caller_membership(request: HttpRequest, org: str, *roles: str) -> Membership:
    """The caller's membership in `org`: 404 when it is not theirs (or not their token's),
    403 when their role is not one of `roles` (any role when none are given) or when the
    organization requires two-factor authentication they have not activated (or, through the
    session, not signed in with)."""
    token = caller_token(request)
    if token is not None:
        if token.organization.slug != org:
            raise Http404("No such organization")
        user = token.user
    else:
        user = request.auth
    membership = membership_for(user=user, slug=org)
    if mfa_missing(membership):
        raise NotAllowed(mfa_missing_message(membership))
    if token is None and mfa_session_missing(membership, request):
        raise NotAllowed(mfa_session_message(membership))
    if roles:
        require_role(membership, *roles)
    return membership


def caller_actor(request: HttpRequest) -> Actor:
    # Ninja authenticates without setting request.user, so a token's user is put in by hand.
    actor = Actor.from_request(request)
    token = caller_token(request)
    return replace(actor, user=token.user) if token is not None else actor
