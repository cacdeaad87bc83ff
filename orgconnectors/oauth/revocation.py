"""Revoking a member's tokens at the server (RFC 7009) when a connection or connector ends, or
the member leaves the organization or becomes an auditor.

The tokens must be read before the credential is deleted, and the request must not run inside
the transaction that ends the connection. So, inside that transaction, the tokens (still
encrypted) and what revoking needs are moved to a TokenRevocation row, the credential is
deleted, and on commit a task (given the row's id only) asks the server, records the
revocation and deletes the row. A server that offers no revocation endpoint is not asked.
"""

import logging
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.models import UsageEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record
from orgconnectors.connectors.models import Connection
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.encryption import DecryptionFailed, decrypt
from orgconnectors.oauth.errors import TokenEndpointError
from orgconnectors.oauth.models import OAuthCredential, TokenRevocation
from orgconnectors.oauth.token_endpoint import ClientAuth, revoke
from orgconnectors.organizations.models import Membership
from orgconnectors.outbox.enqueue import enqueue

logger = logging.getLogger(__name__)

REVOCATION_ACTOR = Actor.system("token revocation")
# Tried at once, then hourly by the beat; after a day of failures the tokens are let go.
MAX_ATTEMPTS = 24
# The hourly retry leaves a revocation this long to its first try (the task's hard limit is
# shorter), so one revocation is never sent by two workers at once.
FIRST_TRY_LEFT_ALONE = timedelta(minutes=5)


def _queue(credential: OAuthCredential, connection: Connection) -> TokenRevocation | None:
    client = credential.client
    revocation = None
    if client.revocation_endpoint:
        revocation = TokenRevocation.objects.create(
            organization_id=connection.membership.organization_id,
            connection_ref=connection.pk,
            # What its audit event names when the connection may be gone.
            target_label=connection.audit_target().label,
            revocation_endpoint=client.revocation_endpoint,
            client_id=client.client_id,
            client_secret_encrypted=client.client_secret_encrypted,
            token_endpoint_auth_method=client.token_endpoint_auth_method,
            access_token_encrypted=credential.access_token_encrypted,
            refresh_token_encrypted=credential.refresh_token_encrypted,
        )
        enqueue("oauth.revoke_tokens", kwargs={"revocation_id": revocation.pk})
    credential.delete()
    return revocation


def _require_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} must run inside the caller's transaction")


def connections_credentials_revoke(*, connections: list[Connection]) -> int:
    """Inside the caller's transaction, with `connections` locked (connections before their
    credentials, as everywhere): end the credential of each that has one; how many did."""
    _require_transaction("connections_credentials_revoke")
    by_id = {connection.pk: connection for connection in connections}
    credentials = (
        OAuthCredential.objects.select_for_update(of=("self",))
        .select_related("client")
        .filter(connection__in=list(by_id))
        .order_by("connection_id")
    )
    ended = 0
    for credential in credentials:
        _queue(credential, by_id[credential.connection_id])
        ended += 1
    return ended


def membership_credentials_revoke(*, membership: Membership) -> int:
    """Inside the caller's transaction, with `membership` locked, before its connections end
    (the person leaves, or becomes an auditor): end every credential they hold."""
    _require_transaction("membership_credentials_revoke")
    connections = list(
        Connection.objects.select_for_update(of=("self",))
        .select_related("membership__user", "connector")
        .filter(membership=membership, oauth_credential__isnull=False)
        .order_by("pk")
    )
    return connections_credentials_revoke(connections=connections)


def _auth(revocation: TokenRevocation) -> ClientAuth:
    return ClientAuth(
        client_id=revocation.client_id,
        client_secret=decrypt(revocation.client_secret_encrypted),
        method=revocation.token_endpoint_auth_method,
    )


def _revoked(revocation: TokenRevocation) -> AuditTarget:
    """The connection whose tokens these were, which may be gone (a member removed, a connector
    removed) or kept (a member disconnected): named by what the revocation kept."""
    connector_id = member_user_id = None
    if revocation.connection_ref:
        found = (
            Connection.objects.filter(pk=revocation.connection_ref)
            .values_list("connector_id", "membership__user_id")
            .first()
        )
        connector_id, member_user_id = found or (None, None)
    return AuditTarget(
        type="connection",
        id=revocation.connection_ref or "",
        label=revocation.target_label,
        connector_id=connector_id,
        member_user_id=member_user_id,
    )


def _finish(revocation: TokenRevocation, *, action: str, changes: dict) -> None:
    with transaction.atomic():
        deleted, _ = TokenRevocation.objects.filter(pk=revocation.pk).delete()
        if not deleted:
            return  # another attempt finished first and recorded it
        audit_record(
            organization=revocation.organization,
            actor=REVOCATION_ACTOR,
            action=action,
            target=_revoked(revocation),
            changes=changes,
        )
        usage_record(
            organization=revocation.organization_id,
            kind=UsageEvent.Kind.REVOCATION,
            details={"outcome": action, "connection": revocation.connection_ref},
        )


def token_revocation_send(*, revocation_id: int) -> bool:
    """Ask the server to revoke the tokens of one queued revocation; True once done (or given
    up), False when it should be tried again later. Runs with no transaction open."""
    revocation = (
        TokenRevocation.objects.select_related("organization").filter(pk=revocation_id).first()
    )
    if revocation is None:
        return True
    tokens = (
        ("refresh_token", revocation.refresh_token_encrypted),
        ("access_token", revocation.access_token_encrypted),
    )
    revoked: list[str] = []
    try:
        auth = _auth(revocation)
        for hint, ciphertext in tokens:
            if ciphertext:
                revoke(
                    revocation_endpoint=revocation.revocation_endpoint,
                    client=auth,
                    token=decrypt(ciphertext),
                    hint=hint,
                )
                revoked.append(hint)
    except DecryptionFailed:
        failure = "the stored tokens can no longer be decrypted"
        transient = False
    except TokenEndpointError as error:
        failure, transient = error.message, error.transient
    except SoftTimeLimitExceeded:
        # Two requests, each ended by its egress deadline, fit in the limit; if not, the
        # hourly retry tries again.
        failure, transient = "the server took too long to answer", True
    else:
        _finish(
            revocation,
            action="oauth.revoked",
            changes={"revoked": {"before": None, "after": revoked}},
        )
        return True
    attempts = revocation.attempts + 1
    if transient and attempts < MAX_ATTEMPTS:
        TokenRevocation.objects.filter(pk=revocation.pk).update(attempts=attempts)
        logger.info("revocation %s failed (%s); will try again", revocation.pk, failure)
        return False
    _finish(
        revocation,
        action="oauth.revoke_failed",
        changes={"error": {"before": None, "after": failure[:300]}},
    )
    return True


def revocations_pending() -> list[int]:
    """Revocations whose first attempt did not finish, oldest first, for the hourly retry."""
    settled = timezone.now() - FIRST_TRY_LEFT_ALONE  # not the ones whose first try is running
    return list(
        TokenRevocation.objects.filter(created_at__lte=settled)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
