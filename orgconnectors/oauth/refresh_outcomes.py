"""What a refresh's answer does to the credential: new tokens saved, a later retry, or a lapse.

The answer is saved first thing, before anything else can fail: with rotating refresh tokens
the old one is dead the moment the server answered. Each outcome is written only while the
claim is still held (refresh_leases.still_held, under the row's lock), with its audit event
and usage row in the same transaction.

A lapse (the grant is gone for good) is also what an issuer move or a rejected client causes:
the connection then needs the member's authorization again. Its writers lock the connection
first, then its credential: the order every writer here keeps, so none waits on another in a
cycle.
"""

import enum
import logging

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.models import UsageEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record
from orgconnectors.connectors.models import Connection
from orgconnectors.core.actor import Actor
from orgconnectors.core.metrics import TOKEN_REFRESHES
from orgconnectors.oauth.errors import TokenEndpointError
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from orgconnectors.oauth.refresh_leases import Claim, locked_credential, still_held
from orgconnectors.oauth.token_endpoint import TokenSet
from orgconnectors.oauth.vault import credential_apply_tokens, retry_delay
from orgconnectors.outbox.enqueue import enqueue

logger = logging.getLogger(__name__)

REFRESH_ACTOR = Actor.system("token refresh")
State = Connection.State


class Outcome(enum.Enum):
    REFRESHED = "refreshed"
    SKIPPED = "skipped"  # someone else refreshed it, or it is gone
    RETRY_LATER = "retry_later"  # the server was down or slow; the old token stays
    LAPSED = "lapsed"  # the grant is gone; the member must authorize again


def locked_connection(connection_id: int) -> Connection | None:
    return (
        Connection.objects.select_for_update(of=("self",))
        .select_related("membership__user", "membership__organization", "connector")
        .filter(pk=connection_id)
        .first()
    )


def _audited_connection(credential: OAuthCredential) -> Connection:
    """The credential's connection with what its audit event names (member, organization,
    connector) in one query."""
    return Connection.objects.select_related(
        "membership__user", "membership__organization", "connector"
    ).get(pk=credential.connection_id)


def token_answer_record(claim: Claim, answer: "TokenSet | TokenEndpointError") -> Outcome:
    """Record what the server answered this claim's token request (and count it, for
    /metrics, whichever path sent it: a member's refresh or a health batch's)."""
    if isinstance(answer, TokenEndpointError):
        if answer.transient:
            outcome = _retry_later(claim, answer)
        else:
            outcome = claimed_credential_lapse(claim, answer.error)
    else:
        outcome = _save_tokens(claim, answer, received_at=timezone.now())
    TOKEN_REFRESHES.labels(outcome=outcome.value).inc()
    return outcome


def _save_tokens(claim: Claim, tokens: TokenSet, *, received_at) -> Outcome:
    with transaction.atomic():
        credential = locked_credential(claim.credential_id)
        if not still_held(credential, claim, timezone.now()):
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
        connection = _audited_connection(credential)
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
        credential = locked_credential(claim.credential_id)
        if not still_held(credential, claim, now):
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
        connection = _audited_connection(credential)
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


def claimed_credential_lapse(claim: Claim, error: str) -> Outcome:
    """The claimed credential's grant is gone (`error` says why): lapse it, and forget a
    dynamically registered client the server no longer knows."""
    with transaction.atomic():
        connection_id = (
            OAuthCredential.objects.filter(pk=claim.credential_id)
            .values_list("connection_id", flat=True)
            .first()
        )
        connection = locked_connection(connection_id) if connection_id else None
        credential = locked_credential(claim.credential_id) if connection else None
        # Re-read under the lock: another worker may have refreshed it meanwhile.
        if not still_held(credential, claim, timezone.now()):
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


def credential_lapse(
    *,
    connection: Connection,
    credential: OAuthCredential | None,
    error: str,
    reason: str,
    actor: Actor,
) -> None:
    """Forget the dead credential, ask the member to authorize again (banner and email) and
    record why. `connection` is locked by the caller, inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credential_lapse must run inside the caller's transaction")
    if credential is not None:
        credential.delete()
    before = connection.state
    if before == State.ENABLED:
        connection.state = State.NEEDS_AUTHORIZATION
        connection.state_reason = reason[:300]
        connection.save(update_fields=["state", "state_reason", "updated_at"])
    audit_record(
        organization=connection.membership.organization,
        actor=actor,
        action="oauth.refresh_failed",
        target=connection,
        changes={
            "error": {"before": None, "after": error},
            "permanent": {"before": None, "after": True},
            "state": {"before": before, "after": connection.state},
        },
    )
    usage_record(
        organization=connection.membership.organization,
        kind=UsageEvent.Kind.REFRESH_FAILED,
        user=connection.membership.user_id,
        connector=connection.connector_id,
        details={"error": error, "permanent": True},
    )
    if before == State.ENABLED:
        enqueue("oauth.notify_reauthorize", kwargs={"connection_id": connection.pk})


def client_forget(*, client: OAuthClient, reason: str, actor: Actor) -> int:
    """The server no longer knows this dynamically registered client: every member who
    authorized through it must authorize again, and the next authorization registers anew.
    Runs inside the caller's transaction."""
    connection_ids = list(client.credentials.values_list("connection_id", flat=True))
    for connection_id in sorted(connection_ids):
        connection = locked_connection(connection_id)
        credential = (
            OAuthCredential.objects.select_for_update().filter(connection_id=connection_id).first()
        )
        if connection is not None:
            credential_lapse(
                connection=connection,
                credential=credential,
                error="invalid_client",
                reason=reason,
                actor=actor,
            )
    OAuthClient.objects.filter(pk=client.pk).delete()
    return len(connection_ids)
