"""Personal API tokens: created (shown once), checked, revoked."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.audit.context import Actor
from orgconnectors.audit.services import audit_record
from orgconnectors.errors import ServiceError
from orgconnectors.organizations.models import Membership

TOKEN_PREFIX = "oc_"
# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(
    *, membership: Membership, name: str, actor: Actor, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name:
        raise ServiceError("Name the token after the app that will use it.", field="name")
    if len(name) > 100:
        raise ServiceError("Keep the name under 100 characters.", field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise ServiceError("The expiry must be in the future.", field="expires_at")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        api_token = ApiToken.objects.create(
            user=membership.user,
            organization=membership.organization,
            name=name,
            prefix=token[:10],
            token_hash=token_hash(token),
            expires_at=expires_at,
        )
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="api_token.created",
            target_type="api_token",
            target_id=api_token.pk,
            target_label=f"{name} ({api_token.prefix}…)",
        )
    return api_token, token


def api_token_revoke(*, api_token: ApiToken, actor: Actor) -> None:
    with transaction.atomic():
        api_token = ApiToken.objects.select_for_update().get(pk=api_token.pk)
        if api_token.revoked_at:
            return
        api_token.revoked_at = timezone.now()
        api_token.save(update_fields=["revoked_at"])
        audit_record(
            organization=api_token.organization,
            actor=actor,
            action="api_token.revoked",
            target_type="api_token",
            target_id=api_token.pk,
            target_label=f"{api_token.name} ({api_token.prefix}…)",
        )


def api_token_authenticate(token: str) -> ApiToken | None:
    """The live token for this secret, or None; touches last_used_at at most once a minute."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    api_token = (
        ApiToken.objects.select_related("user", "organization")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if api_token is None or not api_token.user.is_active:
        return None
    if api_token.expires_at is not None and api_token.expires_at <= now:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    return api_token


def api_tokens_of(*, membership: Membership):
    return ApiToken.objects.filter(user=membership.user, organization=membership.organization)
