"""Who is calling the gateway: the one place a request's `Authorization` header becomes a
member of the organization, or a refusal that becomes 401 (403 for a missing scope).

Accepted: the access tokens of the gateway's OAuth authorization server, issued for this very
endpoint (gateway/authorization/access_tokens.py: Claude.ai, Claude Code, the MCP Inspector and
configurations handed out through the gateway), and orgconnectors API tokens (`Bearer oc_...`)
with the `mcp` scope, for server-side apps and scripts; either of the endpoint's organization, of
an owner or member (auditors hold no connections).

A token's check is reused in process memory for ORGCONNECTORS_GATEWAY_CACHE_SECONDS (2 s by
default): a revoked or expired token, or a member removed, stops within that time. Refusals
are not cached.
"""

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.api.scopes import MCP
from orgconnectors.api.tokens import TOKEN_PREFIX, token_hash
from orgconnectors.gateway.authorization.access_tokens import (
    AccessTokenRefused,
    check_access_token,
    remembered_member,
)
from orgconnectors.gateway.threads import in_thread
from orgconnectors.organizations.models import Membership

API_TOKEN = "api_token"
OAUTH = "oauth"


@dataclass(frozen=True)
class Caller:
    membership_id: int
    user_id: int
    organization_id: int
    organization_slug: str
    role: str
    how: str  # how they authenticated: "api_token" or "oauth"
    api_token_id: int | None = None


class CallerRejected(Exception):
    """The request may not reach the endpoint; `str()` says why, for the caller."""

    def __init__(self, detail: str, *, status: int, www_authenticate: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.www_authenticate = www_authenticate


def resource_metadata_url(resource_url: str) -> str:
    """RFC 9728: the well-known path goes between the host and the resource's path."""
    parts = urlsplit(resource_url)
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-protected-resource{parts.path}"


def _challenge(resource_url: str, error: str = "", detail: str = "", scope: str = "") -> str:
    params = [f'resource_metadata="{resource_metadata_url(resource_url)}"']
    if error:
        params.append(f'error="{error}"')
    if detail:
        params.append('error_description="{}"'.format(detail.replace('"', "'")))
    if scope:
        params.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(params)


def _unauthorized(resource_url: str, detail: str, *, error: str = "invalid_token"):
    return CallerRejected(
        detail, status=401, www_authenticate=_challenge(resource_url, error, detail)
    )


_cache: dict[str, tuple[float, Caller]] = {}
_cache_lock = threading.Lock()
_CACHE_MAX = 10_000


def _cached(key: str) -> Caller | None:
    found = _cache.get(key)
    if found is None:
        return None
    if found[0] < time.monotonic():
        with _cache_lock:
            _cache.pop(key, None)
        return None
    return found[1]


def _remember(key: str, caller: Caller) -> None:
    ttl = settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS
    if ttl <= 0:
        return
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = (time.monotonic() + ttl, caller)


def forget_cached_callers() -> None:
    with _cache_lock:
        _cache.clear()


def _api_token_caller(secret: str, resource_url: str) -> Caller:
    key = token_hash(secret)
    caller = _cached(key)
    if caller is not None:
        return caller
    api_token = (
        ApiToken.objects.select_related("user", "organization")
        .filter(token_hash=key, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if api_token is None or not api_token.user.is_active:
        raise _unauthorized(
            resource_url, "This API token is not valid: it is unknown, revoked or expired."
        )
    membership = (
        Membership.objects.filter(
            user_id=api_token.user_id, organization_id=api_token.organization_id
        )
        .values("pk", "role")
        .first()
    )
    if membership is None:
        raise _unauthorized(resource_url, "This token's owner is no longer in the organization.")
    if MCP not in api_token.scopes:
        detail = "This API token lacks the mcp scope; create one with it to call tools."
        raise CallerRejected(
            detail,
            status=403,
            www_authenticate=_challenge(resource_url, "insufficient_scope", detail, MCP),
        )
    caller = Caller(
        membership_id=membership["pk"],
        user_id=api_token.user_id,
        organization_id=api_token.organization_id,
        organization_slug=api_token.organization.slug,
        role=membership["role"],
        how=API_TOKEN,
        api_token_id=api_token.pk,
    )
    _remember(key, caller)
    return caller


def _credential(authorization: str | None, resource_url: str) -> str:
    scheme, _, credential = (authorization or "").strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise CallerRejected(
            "Authorization needed: authorize with orgconnectors (OAuth; the metadata is at "
            "the resource_metadata URL), or send an orgconnectors API token with the mcp scope "
            "as `Authorization: Bearer oc_...`.",
            status=401,
            www_authenticate=_challenge(resource_url),
        )
    return credential


def _oauth_caller_of(membership: Membership) -> Caller:
    return Caller(
        membership_id=membership.pk,
        user_id=membership.user_id,
        organization_id=membership.organization_id,
        organization_slug=membership.organization.slug,
        role=membership.role,
        how=OAUTH,
    )


def _oauth_caller(credential: str, resource_url: str) -> Caller:
    try:
        membership = check_access_token(token=credential, resource=resource_url)
    except AccessTokenRefused as refused:
        raise _unauthorized(resource_url, refused.message) from None
    return _oauth_caller_of(membership)


def _admitted(caller: Caller, resource_url: str, organization_slug: str) -> Caller:
    if caller.organization_slug != organization_slug:
        raise _unauthorized(resource_url, "This token belongs to another organization.")
    if caller.role not in (Membership.Role.OWNER, Membership.Role.MEMBER):
        detail = "Auditors hold no connections, so they call no tools."
        raise CallerRejected(
            detail,
            status=403,
            www_authenticate=_challenge(resource_url, "insufficient_scope", detail),
        )
    return caller


def caller_resolve(
    authorization: str | None, *, resource_url: str, organization_slug: str
) -> Caller:
    """The member calling the endpoint at `resource_url` (in `organization_slug`), from the
    request's Authorization header; raises CallerRejected. Runs database queries on a cache
    miss: in async code use `acaller_resolve`."""
    credential = _credential(authorization, resource_url)
    if credential.startswith(TOKEN_PREFIX):
        caller = _api_token_caller(credential, resource_url)
    else:
        caller = _oauth_caller(credential, resource_url)
    return _admitted(caller, resource_url, organization_slug)


_api_token_caller_in_thread = in_thread(_api_token_caller)
_oauth_caller_in_thread = in_thread(_oauth_caller)


async def acaller_resolve(
    authorization: str | None, *, resource_url: str, organization_slug: str
) -> Caller:
    """`caller_resolve` for the event loop: a cached token costs no thread and no query."""
    credential = _credential(authorization, resource_url)
    if credential.startswith(TOKEN_PREFIX):
        caller = _cached(token_hash(credential))
        if caller is None:
            caller = await _api_token_caller_in_thread(credential, resource_url)
    else:
        remembered = remembered_member(token=credential, resource=resource_url)
        if remembered is not None:
            caller = _oauth_caller_of(remembered)
        else:
            caller = await _oauth_caller_in_thread(credential, resource_url)
    return _admitted(caller, resource_url, organization_slug)
