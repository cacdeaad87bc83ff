"""The gateway's access tokens: checked on every call, minted for configurations handed out.

Tokens are allauth's opaque access tokens (only their SHA-256 is stored), bound to the member's
user and to one gateway endpoint (the `resource` of RFC 8707, kept as the token's audience).

`member_for_access_token(token=, resource=)` is what the gateway calls per request. A token it
has accepted is remembered in this process's memory for ORGCONNECTORS_GATEWAY_CACHE_SECONDS
(default 2 s, never past the token's expiry), so a busy member costs no query per call. How fast
a refusal takes effect:
- in the process where it happens (a member removed or turned auditor, a token revoked at the
  revocation endpoint, a grant withdrawn), at once: those changes clear the memory here
  (receivers.py), and removing a member deletes their gateway tokens of that organization;
- in every other process, within the cache's seconds;
- and whatever happens, an access token ends at its expiry
  (ORGCONNECTORS_GATEWAY_ACCESS_TOKEN_SECONDS, default 15 minutes); refresh tokens of a removed
  member are deleted with the membership.
"""

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Client, Token
from django.conf import settings
from django.utils import timezone

from orgconnectors.connectors.models import Connector
from orgconnectors.gateway.authorization import endpoints
from orgconnectors.gateway.authorization.adapter import GATEWAY_SCOPES
from orgconnectors.organizations.models import Membership

# The client that configurations handed out by `messages-api-config` are minted for: not a real
# OAuth client (no secret, no redirect URI, no grant), only the name on those tokens.
HANDOUT_CLIENT_ID = "orgconnectors-messages-api"
HANDOUT_CLIENT_NAME = "orgconnectors (Messages API configuration)"

# Beyond this many remembered tokens, the expired ones go; then, if need be, all of them.
_CACHE_MAX_ENTRIES = 10_000


class AccessTokenRefused(Exception):
    """The gateway refuses the token; the message says why, for the caller (a 401's
    error_description). It never contains the token."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Accepted:
    membership: Membership
    token_id: int
    until: float  # time.monotonic()


_accepted: dict[tuple[str, str], _Accepted] = {}
_lock = threading.Lock()


def _hash(token: str) -> str:
    return get_adapter().hash_token(token)


def _remember(key: tuple[str, str], accepted: _Accepted) -> None:
    with _lock:
        if len(_accepted) >= _CACHE_MAX_ENTRIES:
            now = time.monotonic()
            for stale in [k for k, v in _accepted.items() if v.until <= now]:
                del _accepted[stale]
            if len(_accepted) >= _CACHE_MAX_ENTRIES:
                _accepted.clear()
        _accepted[key] = accepted


def _recalled(key: tuple[str, str]) -> Membership | None:
    accepted = _accepted.get(key)
    if accepted is None:
        return None
    if accepted.until <= time.monotonic():
        with _lock:
            _accepted.pop(key, None)
        return None
    return accepted.membership


def forget(*, user_id: int | None = None, organization_id: int | None = None) -> None:
    """Drop what this process remembers about the tokens of a user (in an organization), or
    all of it when no one is named."""
    with _lock:
        if user_id is None and organization_id is None:
            _accepted.clear()
            return
        for key in [
            key
            for key, accepted in _accepted.items()
            if (user_id is None or accepted.membership.user_id == user_id)
            and (organization_id is None or accepted.membership.organization_id == organization_id)
        ]:
            del _accepted[key]


def forget_token(token_id: int) -> None:
    with _lock:
        for key in [key for key, a in _accepted.items() if a.token_id == token_id]:
            del _accepted[key]


def check_access_token(*, token: str, resource: str) -> Membership:
    """The membership a gateway access token acts for at `resource` (the endpoint's canonical
    URL, `{BASE_URL}/mcp/{org}/{connector}`), or AccessTokenRefused saying why not. The role
    is the caller's to check (auditors hold no connections: gateway/caller.py refuses them).

    Uncached: three indexed queries (the token by its hash, the membership, the connector).
    """
    if not token:
        raise AccessTokenRefused("No access token was sent.")
    digest = _hash(token)
    key = (digest, resource)
    remembered = _recalled(key)
    if remembered is not None:
        return remembered
    endpoint = endpoints.endpoint_for_resource(resource)
    if endpoint is None:
        raise AccessTokenRefused(f"{resource} is not an endpoint of this gateway.")
    found = (
        Token.objects.valid()
        .filter(type=Token.Type.ACCESS_TOKEN, hash=digest)
        .select_related("user")
        .first()
    )
    if found is None or found.user is None:
        raise AccessTokenRefused(
            "The access token is unknown, expired or revoked; authorize again."
        )
    if resource not in found.get_resources():
        raise AccessTokenRefused(
            f"The access token was issued for another resource, not {resource}; a token is "
            "good for the one gateway endpoint it was issued for."
        )
    if not found.user.is_active:
        raise AccessTokenRefused("The account this token was issued to is deactivated.")
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(user=found.user, organization__slug=endpoint.organization_slug)
        .first()
    )
    if membership is None:
        raise AccessTokenRefused(
            f"{found.user.email} is not a member of the organization "
            f"“{endpoint.organization_slug}”."
        )
    if not Connector.objects.filter(
        pk=endpoint.connector_id, organization=membership.organization
    ).exists():
        raise AccessTokenRefused(f"{resource} names no connector of {membership.organization}.")
    ttl = float(settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS)
    if found.expires_at is not None:
        ttl = min(ttl, (found.expires_at - timezone.now()).total_seconds())
    if ttl > 0:
        _remember(key, _Accepted(membership, found.pk, time.monotonic() + ttl))
    return membership


def remembered_member(*, token: str, resource: str) -> Membership | None:
    """The membership when this process accepted the token for `resource` moments ago; no
    query, so the event loop may call it. None means "ask check_access_token"."""
    return _recalled((_hash(token), resource)) if token else None


def member_for_access_token(*, token: str, resource: str) -> Membership | None:
    """The membership the token acts for at `resource`, or None when it is refused (use
    `check_access_token` for the reason)."""
    try:
        return check_access_token(token=token, resource=resource)
    except AccessTokenRefused:
        return None


@dataclass(frozen=True)
class MintedToken:
    value: str
    expires_at: datetime
    url: str  # the gateway endpoint the token is good for


def _handout_client() -> Client:
    client, _ = Client.objects.get_or_create(
        id=HANDOUT_CLIENT_ID,
        defaults={
            "name": HANDOUT_CLIENT_NAME,
            "type": Client.Type.CONFIDENTIAL,
            "secret": "",
            "grant_types": "",
            "scopes": "\n".join(GATEWAY_SCOPES),
        },
    )
    return client


def gateway_access_token_mint(
    *, membership: Membership, connectors: list[Connector]
) -> dict[int, MintedToken]:
    """A short-lived gateway access token per connector (by id), for the member's app: bound to
    the member's user and to that connector's endpoint, as if the member had authorized an
    OAuth client for it. Each configuration fetch mints new ones; expired rows are removed by
    allauth's `manage.py oidc_cleartokens`."""
    if not connectors:
        return {}
    client = _handout_client()
    expires_at = timezone.now() + timedelta(seconds=settings.IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN)
    minted: dict[int, MintedToken] = {}
    rows: list[Token] = []
    for connector in connectors:
        value = secrets.token_urlsafe(64)
        url = endpoints.Endpoint(membership.organization.slug, connector.pk).url
        row = Token(
            client=client,
            user_id=membership.user_id,
            type=Token.Type.ACCESS_TOKEN,
            hash=_hash(value),
            expires_at=expires_at,
        )
        row.set_scopes(GATEWAY_SCOPES)
        row.set_resources([url])
        rows.append(row)
        minted[connector.pk] = MintedToken(value, expires_at, url)
    Token.objects.bulk_create(rows)
    return minted


def gateway_tokens_delete(*, user_id: int, organization_slug: str) -> int:
    """Delete a user's gateway tokens (access and refresh) for the endpoints of one organization;
    returns how many went."""
    prefix = endpoints.base_url() + endpoints.PATH_PREFIX + organization_slug + "/"
    doomed = [
        token.pk
        for token in Token.objects.filter(
            user_id=user_id, type__in=[Token.Type.ACCESS_TOKEN, Token.Type.REFRESH_TOKEN]
        ).only("pk", "data")
        if any(resource.startswith(prefix) for resource in token.get_resources())
    ]
    if doomed:
        Token.objects.filter(pk__in=doomed).delete()
    return len(doomed)


def expired_tokens_delete(*, batch: int = 1000) -> int:
    """Delete expired authorization codes and access and refresh tokens (allauth's
    `oidc_cleartokens`, in batches so no transaction holds many rows); returns how many went."""
    deleted = 0
    while True:
        ids = list(Token.objects.expired().values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        Token.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
