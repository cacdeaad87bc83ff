"""Personal API tokens: created (shown once) with scopes and an expiry, checked, revoked."""

import hashlib
import secrets
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.api.scopes import SCOPES, listed, ordered, scopes_for_role
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import NotAllowed, ServiceError
from orgconnectors.organizations.models import Membership

TOKEN_PREFIX = "oc_"
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365
# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _chosen_scopes(
    *, membership: Membership, scopes: Iterable[str] | None, issued_by: ApiToken | None
) -> list[str]:
    allowed = scopes_for_role(membership.role)
    if scopes is None:
        # Every scope the role allows, but a token never hands out more than it holds.
        defaults = [s for s in allowed if issued_by is None or s in issued_by.scopes]
        return ordered(defaults)
    scopes = list(scopes)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ServiceError(
            f"{unknown[0]!r} is not a scope; choose from {listed(SCOPES)}.", field="scopes"
        )
    if not scopes:
        raise ServiceError("Choose at least one scope.", field="scopes")
    beyond_role = [s for s in scopes if s not in allowed]
    if beyond_role:
        raise NotAllowed(
            f"As {membership.get_role_display().lower()} in {membership.organization.name} you "
            f"can give a token only {listed(allowed)}, not {listed(beyond_role)}.",
            field="scopes",
        )
    if issued_by is not None:
        beyond_token = [s for s in scopes if s not in issued_by.scopes]
        if beyond_token:
            raise NotAllowed(
                f"This token has only {listed(issued_by.scopes)}, so it cannot create a token "
                f"with {listed(beyond_token)}.",
                field="scopes",
            )
    return ordered(scopes)


def _chosen_expiry(*, expires_at: datetime | None, issued_by: ApiToken | None) -> datetime:
    now = timezone.now()
    if expires_at is None:
        expires_at = now + timedelta(days=DEFAULT_LIFETIME_DAYS)
        # A token that ends sooner hands out tokens that end with it.
        return min(expires_at, issued_by.expires_at) if issued_by is not None else expires_at
    if expires_at <= now:
        raise ServiceError("The expiry must be in the future.", field="expires_at")
    if expires_at > now + timedelta(days=MAX_LIFETIME_DAYS):
        raise ServiceError(
            f"A token lasts at most {MAX_LIFETIME_DAYS} days; choose an earlier expiry.",
            field="expires_at",
        )
    if issued_by is not None and expires_at > issued_by.expires_at:
        raise NotAllowed(
            f"This token expires on {issued_by.expires_at:%Y-%m-%d %H:%M} UTC, so it cannot "
            "create a token that lasts longer.",
            field="expires_at",
        )
    return expires_at


def api_token_create(
    *,
    membership: Membership,
    name: str,
    actor: Actor,
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    issued_by: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret, which exists nowhere else after this call. `scopes` default
    to all the role allows and `expires_at` to 90 days; `issued_by` is the token the request
    came with, if any: the new one gets no more scope and no later expiry than it has."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("Name the token after the app that will use it.", field="name")
    if len(name) > 100:
        raise ServiceError("Keep the name under 100 characters.", field="name")
    chosen = _chosen_scopes(membership=membership, scopes=scopes, issued_by=issued_by)
    expires_at = _chosen_expiry(expires_at=expires_at, issued_by=issued_by)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        api_token = ApiToken.objects.create(
            user=membership.user,
            organization=membership.organization,
            name=name,
            prefix=token[:10],
            token_hash=token_hash(token),
            expires_at=expires_at,
            scopes=chosen,
        )
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="api_token.created",
            target=api_token,
            changes={
                "scopes": {"before": None, "after": chosen},
                "expires_at": {"before": None, "after": expires_at.isoformat()},
            },
        )
    return api_token, token


def _revoke_locked(api_token: ApiToken, *, actor: Actor, reason: str = "") -> None:
    api_token.revoked_at = timezone.now()
    api_token.save(update_fields=["revoked_at"])
    audit_record(
        organization=api_token.organization,
        actor=actor,
        action="api_token.revoked",
        target=api_token,
        changes={"reason": {"before": None, "after": reason}} if reason else None,
    )


def api_token_revoke(*, api_token: ApiToken, actor: Actor) -> None:
    with transaction.atomic():
        api_token = ApiToken.objects.select_for_update().get(pk=api_token.pk)
        if api_token.revoked_at:
            return
        _revoke_locked(api_token, actor=actor)


def api_tokens_revoke_beyond(
    *, user, organization, allowed_scopes: Collection[str], actor: Actor, reason: str
) -> int:
    """Revoke the person's live tokens in the organization that hold any scope outside
    `allowed_scopes` (all of them when it is empty), each with its audit event. Runs inside the
    caller's transaction when there is one, so a membership change and its revocations commit
    together."""
    allowed = set(allowed_scopes)
    with transaction.atomic():
        live = ApiToken.objects.select_for_update().filter(
            user=user, organization=organization, revoked_at__isnull=True
        )
        revoked = 0
        for api_token in live.select_related("organization"):
            if set(api_token.scopes) <= allowed and allowed:
                continue
            _revoke_locked(api_token, actor=actor, reason=reason)
            revoked += 1
    return revoked


def api_token_authenticate(token: str) -> ApiToken | None:
    """The live token for this secret, or None; touches last_used_at at most once a minute."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    api_token = (
        ApiToken.objects.select_related("user", "organization")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if api_token is None or not api_token.user.is_active:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at >= _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        api_token.last_used_at = now
    return api_token


def api_tokens_of(*, membership: Membership):
    return ApiToken.objects.filter(user=membership.user, organization=membership.organization)
