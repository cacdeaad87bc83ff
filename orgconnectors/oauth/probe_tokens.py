"""Owners' tokens for a batch of health checks: every refresh due goes out at once.

One after another, the refreshes of a batch's owner tokens could outlast the batch's claim. So
each due credential is claimed (single-flight, like every refresh: a credential another worker
is refreshing is waited for, never refreshed twice), the token requests go out together from a
small thread pool, and the answers are saved on the calling thread, which alone touches the
database. Each request ends by its egress deadline, so the whole phase takes about one refresh.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.utils import timezone

from orgconnectors.connectors.models import Connection
from orgconnectors.encryption import DecryptionFailed
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh import token_call
from orgconnectors.oauth.refresh_leases import POLL_SECONDS, credential_claim
from orgconnectors.oauth.refresh_outcomes import Outcome, token_answer_record
from orgconnectors.oauth.vault import access_token_of
from orgconnectors.organizations.models import Membership

logger = logging.getLogger(__name__)

# A token with less than this left is refreshed before a probe uses it (as for any caller).
MIN_VALID_SECONDS = 60
MAX_PARALLEL = 8


def probe_tokens_phase_seconds() -> float:
    """The longest the token phase of a batch takes: one token request, and a little more."""
    return settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS + 5


def _owner_connections(connector_ids: list[int]) -> dict[int, int]:
    """connector id -> the connection of its first owner who authorized it."""
    rows = (
        Connection.objects.filter(
            connector_id__in=connector_ids,
            state=Connection.State.ENABLED,
            membership__role=Membership.Role.OWNER,
            oauth_credential__isnull=False,
        )
        .order_by("connector_id", "membership__created_at", "pk")
        .values_list("connector_id", "pk")
    )
    owners: dict[int, int] = {}
    for connector_id, connection_id in rows:
        owners.setdefault(connector_id, connection_id)
    return owners


def _usable(credential: OAuthCredential | None, *, min_valid: float = 0) -> str | None:
    if credential is None:
        return None
    if credential.expires_at is not None:
        if (credential.expires_at - timezone.now()).total_seconds() <= min_valid:
            return None
    try:
        return access_token_of(credential)
    except DecryptionFailed:
        return None  # the check then sees the server's 401, as with no owner authorized


def _current(connection_id: int) -> str | None:
    return _usable(OAuthCredential.objects.filter(connection_id=connection_id).first())


def connectors_probe_tokens(
    *, connector_ids: list[int], wait_seconds: float
) -> dict[int, str | None]:
    """connector id -> an owner's access token for its check (None: none usable, the check
    sees the server's 401). A connector missing from the answer had its token still being
    refreshed after `wait_seconds`: it is left for another batch."""
    give_up_at = time.monotonic() + wait_seconds
    owners = _owner_connections(connector_ids)
    tokens: dict[int, str | None] = {connector_id: None for connector_id in connector_ids}
    calls, others = {}, {}
    for connector_id, connection_id in owners.items():
        credential = OAuthCredential.objects.filter(connection_id=connection_id).first()
        fresh = _usable(credential, min_valid=MIN_VALID_SECONDS)
        if credential is None or fresh is not None:
            tokens[connector_id] = fresh
            continue
        claim = credential_claim(credential.pk, generation=credential.generation)
        if claim is None:  # another worker is refreshing it (or just did)
            others[connector_id] = (connection_id, credential.generation)
            continue
        call = token_call(claim)
        if isinstance(call, Outcome):
            tokens[connector_id] = _current(connection_id)
        else:
            calls[connector_id] = (claim, call)
    if calls:
        _send_together(calls, owners, tokens, give_up_at)
    for connector_id, (connection_id, generation) in others.items():
        if not _wait_for_other(connection_id, generation, give_up_at):
            del tokens[connector_id]
            continue
        tokens[connector_id] = _current(connection_id)
    return tokens


def _send_together(calls: dict, owners: dict, tokens: dict, give_up_at: float) -> None:
    pool = ThreadPoolExecutor(
        max_workers=min(len(calls), MAX_PARALLEL), thread_name_prefix="probe-token"
    )
    futures = {pool.submit(call.send): connector_id for connector_id, (_, call) in calls.items()}
    done, late = wait(futures, timeout=max(give_up_at - time.monotonic(), 0))
    pool.shutdown(wait=False, cancel_futures=True)
    for future in done:
        connector_id = futures[future]
        claim = calls[connector_id][0]
        token_answer_record(claim, future.result())
        tokens[connector_id] = _current(owners[connector_id])
    for future in late:
        # Only a request wedged past its egress deadline gets here: its claim runs out by
        # itself, the next sweep refreshes the credential, and the check waits for a later batch.
        connector_id = futures[future]
        del tokens[connector_id]
        logger.warning(
            "the owner token of connector %s was not refreshed in time for its check; "
            "it is checked in a later batch",
            connector_id,
        )


def _wait_for_other(connection_id: int, generation: int, give_up_at: float) -> bool:
    """True once the refresh another worker runs has landed or let go (bounded)."""
    while True:
        credential = OAuthCredential.objects.filter(connection_id=connection_id).first()
        if (
            credential is None
            or credential.generation != generation
            or credential.refresh_lease_until is None
            or credential.refresh_lease_until <= timezone.now()
        ):
            return True
        if time.monotonic() >= give_up_at:
            return _usable(credential) is not None
        time.sleep(POLL_SECONDS)
