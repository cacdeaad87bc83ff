"""`manage.py check` (and every start of a worker): a health batch's worst case must fit in its
lease, or a batch with owner tokens to refresh gives every OAuth connector back unchecked."""

from django.conf import settings
from django.core.checks import Error, register

from orgconnectors.health.services import (
    PROBE_GRACE_SECONDS,
    batch_time_limits,
    record_margin_seconds,
)
from orgconnectors.oauth.probe_tokens import probe_tokens_phase_seconds


@register()
def probe_lease_holds_a_batch(app_configs=None, **kwargs) -> list[Error]:
    lease = settings.ORGCONNECTORS_PROBE_LEASE_SECONDS
    # Owners' tokens (one request's deadline), then one round of probes, then the recording,
    # all before the task's soft time limit.
    needed = (
        probe_tokens_phase_seconds()
        + settings.ORGCONNECTORS_PROBE_TIMEOUT_MS / 1000
        + PROBE_GRACE_SECONDS
        + record_margin_seconds()
    )
    soft = batch_time_limits()["soft_time_limit"]
    if needed < soft:
        return []
    return [
        Error(
            f"ORGCONNECTORS_PROBE_LEASE_SECONDS ({lease} s) is too short for one health batch: "
            f"its owners' tokens, one round of probes and recording its results take up to "
            f"{needed:g} s, which must end before the batch task's soft time limit "
            f"({soft} s, {lease - soft} s before the lease). "
            f"Raise it above {needed + lease - soft:g} s.",
            id="orgconnectors.E301",
        )
    ]
