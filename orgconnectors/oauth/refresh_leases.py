"""Who may refresh a credential: exactly one refresh at a time, under a lease.

Whoever refreshes (the beat sweep's task, or a caller that needs a token now) first claims the
credential: a short transaction takes the row with `skip_locked` and writes a lease (until a
time, under a random token) unless one is running, and checks the row still has the generation
the caller saw. Whoever writes the answer checks under the row's lock that the lease is still
its own; a holder that gives up lets go at once.
"""

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orgconnectors.core.metrics import CLAIMS_EXPIRED
from orgconnectors.oauth.models import OAuthCredential


def refresh_lease() -> timedelta:
    # Longer than a token request can take (ORGCONNECTORS_EGRESS_DEADLINE_SECONDS, which a
    # system check keeps shorter), so a lease only runs out when its holder died.
    return timedelta(seconds=settings.ORGCONNECTORS_REFRESH_LEASE_SECONDS)


def _sweep_lease() -> timedelta:
    # How long a credential the sweep handed to a task stays out of other sweeps: should the
    # worker die with it, the next sweep after this picks it up again.
    return timedelta(seconds=settings.ORGCONNECTORS_REFRESH_SWEEP_LEASE_SECONDS)


SWEEP_BATCH_SIZE = 100
# The task's limits (oauth/tasks.py), read once at import like every task option: a refresh
# is one token request, ended by its egress deadline (a system check keeps that shorter than the
# lease); the hard limit ends the task 5 s before its lease does (45 s and 55 s by default).
REFRESH_SOFT_LIMIT_SECONDS = max(settings.ORGCONNECTORS_REFRESH_LEASE_SECONDS - 15, 1)
REFRESH_HARD_LIMIT_SECONDS = max(settings.ORGCONNECTORS_REFRESH_LEASE_SECONDS - 5, 2)
# A caller that finds a lease held checks this often whether that refresh has landed.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Claim:
    credential_id: int
    # Whoever holds it may write the credential: kept out of reprs like the tokens it guards.
    lease_token: str = field(repr=False)
    generation: int


def credential_claim(credential_id: int, *, generation: int | None = None) -> Claim | None:
    """The right to refresh this credential now, or None if a refresh is running, or the
    credential changed from `generation` (already refreshed) or is gone."""
    now = timezone.now()
    lease_token = secrets.token_hex(16)
    with transaction.atomic():
        credential = (
            OAuthCredential.objects.select_for_update(skip_locked=True)
            .filter(pk=credential_id)
            .first()
        )
        if credential is None:
            return None
        if credential.refresh_lease_until is not None and credential.refresh_lease_until > now:
            return None
        if credential.refresh_lease_until is not None:
            CLAIMS_EXPIRED.labels(kind="refresh").inc()
        if generation is not None and credential.generation != generation:
            return None
        credential.refresh_lease_until = now + refresh_lease()
        credential.refresh_lease_token = lease_token
        credential.save(update_fields=["refresh_lease_until", "refresh_lease_token", "updated_at"])
    return Claim(credential_id, lease_token, credential.generation)


def credentials_claim_due(*, batch_size: int = SWEEP_BATCH_SIZE, now=None) -> list[tuple[int, int]]:
    """(id, generation) of up to `batch_size` due credentials, kept from other sweeps awhile."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            OAuthCredential.objects.filter(next_refresh_at__lte=now)
            .filter(Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lte=now))
            .order_by("next_refresh_at", "id")
            .select_for_update(skip_locked=True)
            .values_list("id", "generation")[:batch_size]
        )
        OAuthCredential.objects.filter(pk__in=[row[0] for row in rows]).update(
            next_refresh_at=now + _sweep_lease()
        )
    return rows


def locked_credential(credential_id: int) -> OAuthCredential | None:
    return OAuthCredential.objects.select_for_update().filter(pk=credential_id).first()


def still_held(credential: OAuthCredential | None, claim: Claim, now) -> bool:
    """The row (locked by the caller) is still this claim's: same generation, same lease token,
    lease not run out. Past its lease another worker may have claimed it and be refreshing."""
    return (
        credential is not None
        and credential.generation == claim.generation
        and credential.refresh_lease_token == claim.lease_token
        and credential.refresh_lease_until is not None
        and credential.refresh_lease_until > now
    )


def credential_claim_release(claim: Claim) -> bool:
    """Let go of a claim whose holder gives up (its time limit is near): the next sweep or
    caller may refresh at once. False when the claim was no longer held."""
    released = OAuthCredential.objects.filter(
        pk=claim.credential_id, refresh_lease_token=claim.lease_token
    ).update(refresh_lease_until=None, refresh_lease_token="", next_refresh_at=timezone.now())
    return bool(released)
