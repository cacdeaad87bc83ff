"""Refreshing tokens: exactly one refresh per credential at a time, with no transaction open
while the authorization server is asked.

The beat sweep hands every due credential to a task (`oauth_refresh_sweep`), and the task
refreshes it (`credential_refresh`): claim it (refresh_leases), send the token request with no
transaction open (here), record the answer (refresh_outcomes). A member's app that needs a token
now refreshes the same way, waiting for a refresh already running (refresh_on_demand); so do a
health batch's owner tokens (probe_tokens).
"""

import logging
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded

from orgconnectors.connectors.urls_canonical import canonical_url
from orgconnectors.encryption import DecryptionFailed
from orgconnectors.oauth.clients import client_auth
from orgconnectors.oauth.errors import TokenEndpointError
from orgconnectors.oauth.issuer_pins import preregistered_secret_allowed
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh_leases import (
    SWEEP_BATCH_SIZE,
    Claim,
    credential_claim,
    credential_claim_release,
    credentials_claim_due,
)
from orgconnectors.oauth.refresh_outcomes import (
    Outcome,
    claimed_credential_lapse,
    token_answer_record,
)
from orgconnectors.oauth.token_endpoint import ClientAuth, TokenSet, token_request
from orgconnectors.oauth.vault import refresh_token_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenCall:
    """The token request of a claimed refresh, read from the database and ready to send."""

    token_endpoint: str
    client: ClientAuth = field(repr=False)
    grant: dict = field(repr=False)

    def send(self) -> "TokenSet | TokenEndpointError":
        try:
            return token_request(
                token_endpoint=self.token_endpoint, client=self.client, grant=self.grant
            )
        except TokenEndpointError as failure:
            return failure


def token_call(claim: Claim) -> "TokenCall | Outcome":
    """What to send for this claim, or the outcome when there is nothing to send."""
    credential = (
        OAuthCredential.objects.select_related("client", "connection__connector")
        .filter(pk=claim.credential_id)
        .first()
    )
    if credential is None:
        return Outcome.SKIPPED
    if not credential.refresh_token_encrypted:
        return claimed_credential_lapse(claim, "no_refresh_token")
    if not preregistered_secret_allowed(credential.client):
        return claimed_credential_lapse(claim, "client_moved")
    try:
        grant = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token_of(credential),
            "resource": canonical_url(credential.connection.connector.url),
        }
        auth = client_auth(credential.client)
    except DecryptionFailed:
        return claimed_credential_lapse(claim, "undecryptable")
    return TokenCall(credential.client.token_endpoint, auth, grant)


def credential_refresh_claimed(claim: Claim) -> Outcome:
    """Refresh the credential this claim holds: the token request with no transaction open."""
    call = token_call(claim)
    if isinstance(call, Outcome):
        return call
    return token_answer_record(claim, call.send())


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


def oauth_refresh_sweep(*, enqueue, batch_size: int = SWEEP_BATCH_SIZE, on_more_due=None) -> int:
    """Hand every due credential to `enqueue(credential_id=, generation=)`; how many."""
    due = credentials_claim_due(batch_size=batch_size)
    for credential_id, generation in due:
        enqueue(credential_id=credential_id, generation=generation)
    if len(due) >= batch_size and on_more_due is not None:
        on_more_due()
    return len(due)
