"""When a grant is gone for good: the connection needs the member's authorization again.

Called inside the caller's transaction, after it locked the connection (connection first, then
its credential: the order every writer here keeps, so none waits on another in a cycle).
"""

from django.db import transaction

from orgconnectors.audit.models import UsageEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record
from orgconnectors.connectors.models import Connection
from orgconnectors.core.actor import Actor
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from orgconnectors.outbox.enqueue import enqueue

State = Connection.State


def locked_connection(connection_id: int) -> Connection | None:
    return (
        Connection.objects.select_for_update(of=("self",))
        .select_related("membership__user", "membership__organization", "connector")
        .filter(pk=connection_id)
        .first()
    )


def credential_lapse(
    *,
    connection: Connection,
    credential: OAuthCredential | None,
    error: str,
    reason: str,
    actor: Actor,
) -> None:
    """Forget the dead credential, ask the member to authorize again (banner and email) and
    record why. `connection` is locked by the caller."""
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
    authorized through it must authorize again, and the next authorization registers anew."""
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
