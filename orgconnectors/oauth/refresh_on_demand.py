"""A token now, for a member's app asking for its configuration (or a health check of an OAuth
connector): the stored access token while it is valid long enough, else refreshed first.

The one refresh in flight is shared: a caller that finds a lease held waits for that refresh to
land rather than sending a second one.
"""

import time

from django.utils import timezone

from orgconnectors.connectors.models import Connection
from orgconnectors.encryption import DecryptionFailed
from orgconnectors.oauth.errors import NeedsAuthorization, TokenUnavailable
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh import credential_refresh_claimed
from orgconnectors.oauth.refresh_leases import POLL_SECONDS, credential_claim
from orgconnectors.oauth.refresh_outcomes import Outcome
from orgconnectors.oauth.vault import access_token_of
from orgconnectors.organizations.models import Membership

# A caller that finds a refresh running waits this long for it.
WAIT_FOR_REFRESH_SECONDS = 25.0


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
