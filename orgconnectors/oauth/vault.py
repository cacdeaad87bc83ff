"""The vault: a connection's tokens, encrypted at rest, and when they are due for refresh.

Tokens are decrypted only by `access_token_of` and `refresh_token_of`, at the moment they are
sent; they never go into task arguments, logs, pages, exceptions or audit rows.
"""

import random
from datetime import datetime, timedelta

from orgconnectors.connectors.models import Connection
from orgconnectors.encryption import decrypt, encrypt
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from orgconnectors.oauth.token_endpoint import TokenSet

# Refresh at ~75% of the lifetime, and no later than 5 minutes before expiry; never earlier
# than half the lifetime (so a 2-minute token is not refreshed the moment it arrives).
REFRESH_AT_FRACTION = 0.75
REFRESH_MARGIN = timedelta(minutes=5)
REFRESH_NOT_BEFORE_FRACTION = 0.5
# Without a lifetime, refresh daily anyway: some servers drop refresh tokens left unused.
REFRESH_WITHOUT_EXPIRY = timedelta(days=1)


def refresh_due_at(
    *, obtained_at: datetime, expires_in: int | None, can_refresh: bool
) -> datetime | None:
    if expires_in is None:
        return obtained_at + REFRESH_WITHOUT_EXPIRY if can_refresh else None
    lifetime = timedelta(seconds=expires_in)
    if not can_refresh:
        # Nothing to refresh with: due at expiry, when the member is asked to authorize again.
        return obtained_at + lifetime
    at = min(lifetime * REFRESH_AT_FRACTION, lifetime - REFRESH_MARGIN)
    return obtained_at + max(at, lifetime * REFRESH_NOT_BEFORE_FRACTION)


def retry_delay(failures: int, *, expires_at: datetime | None, now: datetime) -> timedelta:
    """Exponential backoff with jitter (30 s, 1 min, 2 min ... up to 30 min), sooner when the
    token would otherwise expire before the next try."""
    base = min(30 * 2 ** max(failures - 1, 0), 30 * 60)
    if expires_at is not None:
        left = (expires_at - now).total_seconds()
        base = min(base, max(left / 2, 15))
    return timedelta(seconds=base * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not a secret


def access_token_of(credential: OAuthCredential) -> str:
    return decrypt(credential.access_token_encrypted)


def refresh_token_of(credential: OAuthCredential) -> str:
    return decrypt(credential.refresh_token_encrypted)


def credential_apply_tokens(
    credential: OAuthCredential, tokens: TokenSet, *, received_at: datetime, requested_scope: str
) -> None:
    """Put freshly received tokens into `credential` (unsaved); a refresh answer without a new
    refresh token keeps the old one, as RFC 6749 §6 allows."""
    credential.access_token_encrypted = encrypt(tokens.access_token)
    if tokens.refresh_token:
        credential.refresh_token_encrypted = encrypt(tokens.refresh_token)
    credential.token_type = tokens.token_type
    # No scope in the answer means the scope asked for was granted (RFC 6749 §5.1).
    credential.scope = tokens.scope if tokens.scope is not None else requested_scope
    credential.obtained_at = received_at
    credential.expires_at = (
        received_at + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    )
    credential.next_refresh_at = refresh_due_at(
        obtained_at=received_at,
        expires_in=tokens.expires_in,
        can_refresh=bool(credential.refresh_token_encrypted),
    )
    credential.generation = (credential.generation or 0) + 1
    credential.refresh_lease_until = None
    credential.refresh_lease_token = ""
    credential.refresh_failures = 0
    credential.last_refresh_error = ""


def credential_store(
    *,
    connection: Connection,
    client: OAuthClient,
    tokens: TokenSet,
    received_at: datetime,
    requested_scope: str,
) -> OAuthCredential:
    """Create or replace the connection's credential; callers hold the connection's lock.

    A re-authorization keeps the row, so its step-up history survives it."""
    credential = OAuthCredential.objects.filter(connection=connection).first()
    if credential is None:
        credential = OAuthCredential(connection=connection, generation=0)
    else:
        # A new grant: the old refresh token belongs to the old one.
        credential.refresh_token_encrypted = ""
    credential.client = client
    credential_apply_tokens(
        credential, tokens, received_at=received_at, requested_scope=requested_scope
    )
    credential.last_refreshed_at = None
    credential.save()
    return credential
