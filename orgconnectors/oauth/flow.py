"""The authorization code flow with PKCE (RFC 6749, RFC 7636, RFC 8707), step by step.

`authorization_begin` writes the pending request and builds the URL the member's browser goes
to; `authorization_take` finds it again from the callback's `state` and uses it up, exactly once,
for the member (and browser session) that started it; `code_exchange` redeems the code.
"""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import transaction
from django.utils import timezone
from mcp.client.auth.utils import issuers_match

from orgconnectors.connectors.models import Connector
from orgconnectors.encryption import decrypt, encrypt
from orgconnectors.oauth.clients import callback_path, client_auth, client_redirect_uri
from orgconnectors.oauth.discovery import check_browser_url
from orgconnectors.oauth.errors import AuthorizationRefused
from orgconnectors.oauth.models import OAuthClient, PendingAuthorization
from orgconnectors.oauth.token_endpoint import TokenSet, token_request
from orgconnectors.organizations.models import Membership

STATE_TTL = timedelta(minutes=10)
_START_AGAIN = "Go back to My connectors and choose Authorize to start again."


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def session_hash(session_key: str | None) -> str:
    return _hash(session_key) if session_key else ""


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge): 64 unreserved characters, well within RFC 7636's 43–128."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorize_url(endpoint: str, params: dict[str, str]) -> str:
    """The endpoint with the request's parameters added to any query it already has."""
    parts = urlsplit(check_browser_url(endpoint, what="authorization endpoint"))
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(key, value) for key, value in params.items() if value]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def authorization_begin(
    *,
    membership: Membership,
    connector: Connector,
    client: OAuthClient,
    resource: str,
    scope: str,
    session_key: str | None,
    purpose: str = PendingAuthorization.Purpose.CONNECT,
    iss_required: bool = False,
) -> str:
    """Remember a new authorization request, bound to the issuer it is sent to, and return the
    URL to send the member to. `iss_required`: the server's metadata promises `iss` (RFC 9207)."""
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    redirect_uri = client_redirect_uri(client)
    PendingAuthorization.objects.create(
        state_hash=_hash(state),
        user=membership.user,
        membership=membership,
        connector=connector,
        client=client,
        session_hash=session_hash(session_key),
        code_verifier_encrypted=encrypt(verifier),
        redirect_uri=redirect_uri,
        issuer=client.issuer,
        iss_required=iss_required,
        resource=resource,
        scope=scope,
        purpose=purpose,
        expires_at=timezone.now() + STATE_TTL,
    )
    return authorize_url(
        client.authorization_endpoint,
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
            "scope": scope,
            "resource": resource,
        },
    )


@dataclass(frozen=True)
class TakenAuthorization:
    pending: PendingAuthorization

    @property
    def code_verifier(self) -> str:
        return decrypt(self.pending.code_verifier_encrypted)


def _refused(message: str, what_to_do: str = _START_AGAIN, **kwargs) -> AuthorizationRefused:
    return AuthorizationRefused(message, what_to_do=what_to_do, **kwargs)


def authorization_take(*, state: str, user, session_key: str | None) -> TakenAuthorization:
    """The pending request of this state, used up; refuses unknown, someone else's, expired and
    replayed states. A state shown to the wrong user is used up too: it has leaked."""
    if not state:
        raise _refused(
            "The authorization server sent you back without the request's state, so "
            "orgconnectors cannot tell which authorization this answers.",
            title="Authorization not recognised",
        )
    now = timezone.now()
    with transaction.atomic():
        pending = (
            PendingAuthorization.objects.select_for_update()
            .select_related("client", "connector", "membership__organization", "user")
            .filter(state_hash=_hash(state))
            .first()
        )
        if pending is None:
            raise _refused(
                "This authorization answer does not match any request orgconnectors made.",
                title="Authorization not recognised",
            )
        first_use = pending.used_at is None
        if first_use:
            pending.used_at = now
            pending.save(update_fields=["used_at"])
    if not first_use:
        raise _refused(
            "This authorization answer was already used; each one works once.",
            title="Authorization already used",
        )
    bound_session = pending.session_hash
    if pending.user_id != getattr(user, "pk", None) or (
        bound_session and bound_session != session_hash(session_key)
    ):
        raise _refused(
            "This authorization was started by someone else, or in another browser, so it "
            "cannot complete here.",
            what_to_do="If you meant to connect, start from your own My connectors page in "
            "this browser.",
            title="Authorization belongs to someone else",
        )
    if pending.expires_at <= now:
        raise _refused(
            "This authorization took longer than 10 minutes and has expired.",
            title="Authorization expired",
        )
    return TakenAuthorization(pending=pending)


@dataclass(frozen=True)
class MixUp:
    """Why an answer cannot be from the server its authorization was sent to."""

    reason: str  # other_callback, iss_missing or iss_mismatch: for the audit trail
    message: str


def mix_up_of(pending: PendingAuthorization, *, callback_key: str, iss: str | None) -> MixUp | None:
    """The answer's return address must be that of the pending authorization's issuer, and its
    `iss` (when present, or when the server promised it) must name that issuer (RFC 9207)."""
    issuer = pending.issuer or pending.client.issuer
    if urlsplit(pending.redirect_uri).path != callback_path(callback_key):
        return MixUp(
            "other_callback",
            f"This answer came back to the address of another authorization server's "
            f"authorizations, not to that of {issuer}, where this one was sent; orgconnectors "
            "refused it and sent its code nowhere.",
        )
    if iss is None and pending.iss_required:
        return MixUp(
            "iss_missing",
            f"The authorization server {issuer} says it names itself in every answer (RFC "
            "9207), but this answer does not; orgconnectors refused it and sent its code "
            "nowhere.",
        )
    if iss is not None and not issuers_match(iss, issuer):
        return MixUp(
            "iss_mismatch",
            f"The answer came from {iss[:200]}, not from {issuer}, the server it was sent to; "
            "orgconnectors refused it and sent its code nowhere.",
        )
    return None


def code_exchange(*, taken: TakenAuthorization, code: str) -> TokenSet:
    """Redeem the code at the token endpoint, with the verifier and the same resource."""
    pending = taken.pending
    return token_request(
        token_endpoint=pending.client.token_endpoint,
        client=client_auth(pending.client),
        grant={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": taken.code_verifier,
            "resource": pending.resource,
        },
    )


def pending_authorizations_purge() -> int:
    """Delete the requests that expired (answered or not); how many."""
    deleted, _ = PendingAuthorization.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
