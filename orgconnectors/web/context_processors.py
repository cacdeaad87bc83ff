from dataclasses import dataclass

from django.utils.functional import SimpleLazyObject

from orgconnectors.connectors.selectors import connection_usage
from orgconnectors.organizations.selectors import memberships_for_user


@dataclass(frozen=True)
class PlanUsage:
    """How many connections the signed-in member has in use, of the plan's limit."""

    in_use: int
    limit: int


def _plan_usage(membership) -> PlanUsage:
    in_use, limit = connection_usage(membership=membership)
    return PlanUsage(in_use=in_use, limit=limit)


def current_organization(request):
    """The organization the page is about (set by views on request.membership) and the switcher."""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    memberships = []
    if user is not None and user.is_authenticated:
        memberships = getattr(request, "_all_memberships", None)
        if memberships is None:
            memberships = list(memberships_for_user(user=user))
            request._all_memberships = memberships
    plan_usage = None
    if membership is not None and membership.role != membership.Role.AUDITOR:
        # Lazy: a page that does not render the navigation (a fragment) asks nothing.
        plan_usage = SimpleLazyObject(lambda: _plan_usage(membership))
    return {
        "plan_usage": plan_usage,
        "membership": membership,
        "organization": membership.organization if membership else None,
        "all_memberships": memberships,
    }
