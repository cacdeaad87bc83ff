def current_organization(request):
    """The organization the page is about (set by views on request.membership) and the switcher."""
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    memberships = []
    if user is not None and user.is_authenticated:
        memberships = getattr(request, "_all_memberships", None)
        if memberships is None:
            from orgconnectors.organizations.selectors import memberships_for_user

            memberships = list(memberships_for_user(user=user))
            request._all_memberships = memberships
    return {
        "membership": membership,
        "organization": membership.organization if membership else None,
        "all_memberships": memberships,
    }
