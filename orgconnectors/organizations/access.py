"""Access to the organization pages: who is signed in, whether they belong, and their role."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from orgconnectors.core.errors import NotAllowed
from orgconnectors.organizations.mfa import (
    mfa_missing,
    mfa_missing_message,
    mfa_session_message,
    mfa_session_missing,
)
from orgconnectors.organizations.selectors import membership_for, require_role


def org_view(*roles: str):
    """Wrap a view of `/orgs/<slug>/…`: the view receives the caller's membership instead of the
    slug. Not a member (or no such organization) is 404; a role not in `roles` is 403. Owners and
    auditors of an organization that requires two-factor authentication are sent to set it up
    until they have, and to confirm it when this session was signed in without it."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, slug, *args, **kwargs):
            membership = membership_for(user=request.user, slug=slug)
            # The layout (switcher, navigation by role) reads it through the context processor.
            request.membership = membership
            if mfa_missing(membership):
                # Signing in lands here through `home`, so this is where the requirement bites.
                messages.warning(request, mfa_missing_message(membership))
                return redirect("mfa_activate_totp")
            if mfa_session_missing(membership, request):
                # allauth's re-authentication with the authenticator records `mfa` in this
                # session, then brings them back here.
                messages.warning(request, mfa_session_message(membership))
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
            if roles:
                try:
                    require_role(membership, *roles)
                except NotAllowed as refused:
                    return render(request, "403.html", {"message": refused.message}, status=403)
            return view(request, membership, *args, **kwargs)

        return wrapper

    return decorator
