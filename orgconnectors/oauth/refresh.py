"""Refreshing tokens: exactly one refresh per credential at a time, with no transaction open
while the authorization server is asked.

Whoever refreshes (the beat sweep's task, or a caller that needs a token now) first claims the
credential: a short transaction takes the row with `skip_locked` and writes a lease (until a
time, under a random token) unless one is running, and checks the row still has the generation
the caller saw. Then the token request goes out with no transaction open. Its answer is saved
first thing, before anything else can fail: with rotating refresh tokens the old one is dead the
moment the server answered. A caller that finds a lease held waits for that refresh to land.
"""

import enum
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orgconnectors.audit.models import UsageEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record
from orgconnectors.connectors.models import Connection
from orgconnectors.connectors.urls_canonical import canonical_url
from orgconnectors.core.actor import Actor
from orgconnectors.encryption import DecryptionFailed
from orgconnectors.oauth.clients import client_auth
from orgconnectors.oauth.errors import NeedsAuthorization, TokenEndpointError, TokenUnavailable
from orgconnectors.oauth.issuer_pins import preregistered_secret_allowed
from orgconnectors.oauth.lapse import client_forget, credential_lapse, locked_connection
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from orgconnectors.oauth.token_endpoint import ClientAuth, TokenSet, token_request
from orgconnectors.oauth.vault import (
    access_token_of,
    credential_apply_tokens,
    refresh_token_of,
    retry_delay,
)
from orgconnectors.ops.metrics import CLAIMS_EXPIRED, TOKEN_REFRESHES
from orgconnectors.organizations.models import Membership

logger = logging.getLogger(__name__)

REFRESH_ACTOR = Actor.system("token refresh")


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
# A caller that finds a refresh running waits this long for it, checking this often.
WAIT_FOR_REFRESH_SECONDS = 25.0
POLL_SECONDS = 0.2


class Outcome(enum.Enum):
    REFRESHED = "refreshed"
    SKIPPED = "skipped"  # someone else refreshed it, or it is gone
    RETRY_LATER = "retry_later"  # the server was down or slow; the old token stays
    LAPSED = "lapsed"  # the grant is gone; the member must authorize again


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


def _locked_credential(credential_id: int) -> OAuthCredential | None:
    return OAuthCredential.objects.select_for_update().filter(pk=credential_id).first()


def _still_held(credential: OAuthCredential | None, claim: Claim, now) -> bool:
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


def _save_tokens(claim: Claim, tokens: TokenSet, *, received_at) -> Outcome:
    with transaction.atomic():
        credential = _locked_credential(claim.credential_id)
        if not _still_held(credential, claim, timezone.now()):
            # Disconnected, re-authorized, or the lease ran out (another worker may hold it
            # now) while the request was out: the row wins, this answer is discarded.
            logger.warning(
                "credential %s changed or its lease ran out during its refresh; answer discarded",
                claim.credential_id,
            )
            return Outcome.SKIPPED
        before = credential.expires_at
        credential_apply_tokens(
            credential, tokens, received_at=received_at, requested_scope=credential.scope
        )
        credential.last_refreshed_at = received_at
        credential.save()  # first: a rotated refresh token must never be lost
        connection = Connection.objects.select_related(
            "membership__user", "membership__organization", "connector"
        ).get(pk=credential.connection_id)
        audit_record(
            organization=connection.membership.organization,
            actor=REFRESH_ACTOR,
            action="oauth.refreshed",
            target=connection,
            changes={
                "expires_at": {
                    "before": before.isoformat() if before else None,
                    "after": credential.expires_at.isoformat() if credential.expires_at else None,
                },
                "refresh_token_rotated": {"before": None, "after": bool(tokens.refresh_token)},
            },
        )
        usage_record(
            organization=connection.membership.organization,
            kind=UsageEvent.Kind.TOKEN_REFRESH,
            user=connection.membership.user_id,
            connector=connection.connector_id,
            details={"refresh_token_rotated": bool(tokens.refresh_token)},
        )
    return Outcome.REFRESHED


def _retry_later(claim: Claim, failure: TokenEndpointError) -> Outcome:
    now = timezone.now()
    with transaction.atomic():
        credential = _locked_credential(claim.credential_id)
        if not _still_held(credential, claim, now):
            logger.warning(
                "credential %s: lease ran out before its failed refresh was recorded",
                claim.credential_id,
            )
            return Outcome.SKIPPED
        credential.refresh_failures += 1
        credential.last_refresh_error = failure.message[:300]
        credential.next_refresh_at = now + retry_delay(
            credential.refresh_failures, expires_at=credential.expires_at, now=now
        )
        credential.refresh_lease_until = None
        credential.refresh_lease_token = ""
        credential.save()
        connection = Connection.objects.select_related(
            "membership__user", "membership__organization", "connector"
        ).get(pk=credential.connection_id)
        audit_record(
            organization=connection.membership.organization,
            actor=REFRESH_ACTOR,
            action="oauth.refresh_failed",
            target=connection,
            changes={
                "error": {"before": None, "after": failure.error},
                "permanent": {"before": None, "after": False},
                "next_attempt_at": {
                    "before": None,
                    "after": credential.next_refresh_at.isoformat(),
                },
            },
        )
        usage_record(
            organization=connection.membership.organization,
            kind=UsageEvent.Kind.REFRESH_FAILED,
            user=connection.membership.user_id,
            connector=connection.connector_id,
            details={"error": failure.error, "permanent": False},
        )
    logger.info(
        "refresh of credential %s failed (%s); next try at %s",
        claim.credential_id,
        failure.error,
        credential.next_refresh_at,
    )
    return Outcome.RETRY_LATER


def _reason(error: str, client: OAuthClient) -> str:
    if error == "invalid_client" and client.kind == OAuthClient.Kind.PREREGISTERED:
        return (
            "The server no longer accepts the connector's OAuth client ID and secret; an owner "
            "must check them in the connector's settings, then authorize again."
        )
    if error == "no_refresh_token":
        return "Your authorization expired and the server gives no refresh tokens; authorize again."
    if error == "client_moved":
        return (
            "The connector's owner moved its OAuth client to another authorization server; "
            "authorize again."
        )
    if error == "undecryptable":
        return "Your stored authorization can no longer be read; authorize again."
    return (
        "The server no longer accepts your authorization (it was revoked or expired); "
        "authorize again."
    )


def _lapse(claim: Claim, error: str) -> Outcome:
    with transaction.atomic():
        connection_id = (
            OAuthCredential.objects.filter(pk=claim.credential_id)
            .values_list("connection_id", flat=True)
            .first()
        )
        connection = locked_connection(connection_id) if connection_id else None
        credential = _locked_credential(claim.credential_id) if connection else None
        # Re-read under the lock: another worker may have refreshed it meanwhile.
        if not _still_held(credential, claim, timezone.now()):
            logger.warning("credential %s: lease lost before its lapse", claim.credential_id)
            return Outcome.SKIPPED
        client = credential.client
        reason = _reason(error, client)
        credential_lapse(
            connection=connection,
            credential=credential,
            error=error,
            reason=reason,
            actor=REFRESH_ACTOR,
        )
        if error == "invalid_client" and client.kind == OAuthClient.Kind.DYNAMIC:
            client_forget(client=client, reason=reason, actor=REFRESH_ACTOR)
    return Outcome.LAPSED


@dataclass(frozen=True)
class _TokenCall:
    """The token request of a claimed refresh, read from the database and ready to send."""

    token_endpoint: str
    client: ClientAuth = field(repr=False)
    grant: dict = field(repr=False)

    def send(self) -> TokenSet:
        return token_request(
            token_endpoint=self.token_endpoint, client=self.client, grant=self.grant
        )


def _token_call(claim: Claim) -> "_TokenCall | Outcome":
    """What to send for this claim, or the outcome when there is nothing to send."""
    credential = (
        OAuthCredential.objects.select_related("client", "connection__connector")
        .filter(pk=claim.credential_id)
        .first()
    )
    if credential is None:
        return Outcome.SKIPPED
    if not credential.refresh_token_encrypted:
        return _lapse(claim, "no_refresh_token")
    if not preregistered_secret_allowed(credential.client):
        return _lapse(claim, "client_moved")
    try:
        grant = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token_of(credential),
            "resource": canonical_url(credential.connection.connector.url),
        }
        auth = client_auth(credential.client)
    except DecryptionFailed:
        return _lapse(claim, "undecryptable")
    return _TokenCall(credential.client.token_endpoint, auth, grant)


def _token_answer(claim: Claim, answer: "TokenSet | TokenEndpointError") -> Outcome:
    """Record what the server answered this claim's token request (and count it, for
    /metrics, whichever path sent it: a member's refresh or a health batch's)."""
    if isinstance(answer, TokenEndpointError):
        outcome = _retry_later(claim, answer) if answer.transient else _lapse(claim, answer.error)
    else:
        outcome = _save_tokens(claim, answer, received_at=timezone.now())
    TOKEN_REFRESHES.labels(outcome=outcome.value).inc()
    return outcome


def _send(call: _TokenCall) -> "TokenSet | TokenEndpointError":
    try:
        return call.send()
    except TokenEndpointError as failure:
        return failure


def credential_refresh_claimed(claim: Claim) -> Outcome:
    """Refresh the credential this claim holds: the token request with no transaction open."""
    call = _token_call(claim)
    if isinstance(call, Outcome):
        return call
    return _token_answer(claim, _send(call))


def credential_refresh(*, credential_id: int, generation: int | None = None) -> Outcome:
    """Refresh one credential unless someone else is, or did, for this generation."""
    claim = credential_claim(credential_id, generation=generation)
    if claim is None:
        return Outcome.SKIPPED
    try:
        return credential_refresh_claimed(claim)
    except SoftTimeLimitExceeded:
        # The task's time limit is near (it is shorter than the lease): let go, so the next
        # sweep refreshes it at once rather than after the lease.
        credential_claim_release(claim)
        logger.warning("refresh of credential %s stopped at its time limit", credential_id)
        return Outcome.RETRY_LATER


def _usable_connection(connection: Connection | int) -> Connection:
    connection_id = connection if isinstance(connection, int) else connection.pk
    current = Connection.objects.select_related("connector").filter(pk=connection_id).first()
    if current is None or current.state != Connection.State.ENABLED:
        reason = current.state_reason if current is not None else ""
        raise NeedsAuthorization(
            reason or "This connection is not connected; connect it on My connectors first."
        )
    return current


def credential_fresh_access_token(
    *, connection: Connection | int, min_valid_seconds: int = 60
) -> str:
    """An access token of the connection valid for at least `min_valid_seconds`, refreshing it
    first if needed; the one refresh in flight is shared by every caller that wants it.

    Raises NeedsAuthorization when the member must authorize (again), TokenUnavailable when
    the server cannot be reached and the stored token has expired.
    """
    connection = _usable_connection(connection)
    deadline = time.monotonic() + WAIT_FOR_REFRESH_SECONDS
    while True:
        credential = OAuthCredential.objects.filter(connection=connection).first()
        if credential is None:
            raise NeedsAuthorization("Authorize this connection with its server first.")
        now = timezone.now()
        left = (credential.expires_at - now).total_seconds() if credential.expires_at else None
        if left is None or left > min_valid_seconds:
            return access_token_of(credential)
        claim = credential_claim(credential.pk, generation=credential.generation)
        if claim is not None:
            outcome = credential_refresh_claimed(claim)
            if outcome is Outcome.REFRESHED:
                return access_token_of(OAuthCredential.objects.get(pk=credential.pk))
            if outcome is Outcome.LAPSED:
                raise NeedsAuthorization(_usable_or_reason(connection))
            if outcome is Outcome.RETRY_LATER:
                return _still_valid_or_unavailable(credential, left)
        elif time.monotonic() >= deadline:
            return _still_valid_or_unavailable(credential, left)
        else:
            time.sleep(POLL_SECONDS)  # another worker's refresh is in flight


def _still_valid_or_unavailable(credential: OAuthCredential, left: float) -> str:
    if left > 0:
        return access_token_of(credential)
    raise TokenUnavailable(
        "The connection's token expired and its server cannot renew it right now; try again "
        "in a few minutes."
    )


def _usable_or_reason(connection: Connection) -> str:
    reason = Connection.objects.filter(pk=connection.pk).values_list("state_reason", flat=True)
    return reason.first() or "Authorize this connection again."


def oauth_refresh_sweep(*, enqueue, batch_size: int = SWEEP_BATCH_SIZE, on_more_due=None) -> int:
    """Hand every due credential to `enqueue(credential_id=, generation=)`; how many."""
    due = credentials_claim_due(batch_size=batch_size)
    for credential_id, generation in due:
        enqueue(credential_id=credential_id, generation=generation)
    if len(due) >= batch_size and on_more_due is not None:
        on_more_due()
    return len(due)


def connector_probe_token(*, connector_id: int) -> str | None:
    """For the health check of an OAuth connector: a token of an owner's own connection, so
    the probe sees the tool list members get; None while no owner has a usable one."""
    connection = (
        Connection.objects.filter(
            connector_id=connector_id,
            state=Connection.State.ENABLED,
            membership__role=Membership.Role.OWNER,
            oauth_credential__isnull=False,
        )
        .order_by("membership__created_at", "pk")
        .first()
    )
    if connection is None:
        return None
    try:
        return credential_fresh_access_token(connection=connection)
    except (NeedsAuthorization, TokenUnavailable, DecryptionFailed):
        # The check then sees the server's 401, as it would with no owner authorized.
        return None
