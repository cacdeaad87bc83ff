"""`manage.py check` (and every start of the server or a worker): the egress deadline must end
before the leases outbound calls run under, or a slow server outlives the lease and a second
worker starts the same work."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def egress_deadline_is_shorter_than_the_leases(app_configs=None, **kwargs) -> list[Error]:
    deadline = float(settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS)
    if deadline <= 0:
        return [
            Error(
                f"ORGCONNECTORS_EGRESS_DEADLINE_SECONDS is {deadline:g}; it must be a positive "
                "number of seconds.",
                id="orgconnectors.E101",
            )
        ]
    leases = {
        "ORGCONNECTORS_PROBE_LEASE_SECONDS, the lease of a health check batch": (
            settings.ORGCONNECTORS_PROBE_LEASE_SECONDS
        ),
        "ORGCONNECTORS_REFRESH_LEASE_SECONDS, the lease of a token refresh": (
            settings.ORGCONNECTORS_REFRESH_LEASE_SECONDS
        ),
    }
    return [
        Error(
            f"ORGCONNECTORS_EGRESS_DEADLINE_SECONDS ({deadline:g} s) must be shorter than {what} "
            f"({lease:g} s), so an outbound request always ends before the lease it runs under.",
            id="orgconnectors.E102",
        )
        for what, lease in leases.items()
        if deadline >= lease
    ]
