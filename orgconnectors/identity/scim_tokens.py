"""The bearer tokens an organization's identity provider provisions people with: created by an
owner (shown once), checked on every SCIM request, revoked."""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.models import ScimToken
from orgconnectors.organizations.models import Organization

TOKEN_PREFIX = "ocscim_"
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def scim_token_create(
    *, organization: Organization, name: str, actor: Actor
) -> tuple[ScimToken, str]:
    """A new token and its secret, which is shown this once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ServiceError("Name the token (at most 100 characters).", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ScimToken.objects.create(
            organization=organization,
            name=name,
            prefix=secret[: len(TOKEN_PREFIX) + 4],
            token_hash=_hash(secret),
            created_by=actor.user,
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="scim_token.created",
            target=token,
            changes={"name": {"before": None, "after": name}},
        )
    return token, secret


def scim_token_revoke(*, token: ScimToken, actor: Actor) -> ScimToken:
    with transaction.atomic():
        token = ScimToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                organization=token.organization,
                actor=actor,
                action="scim_token.revoked",
                target=token,
            )
    return token


def scim_token_check(*, organization_slug: str, secret: str) -> ScimToken | None:
    """The live token of this organization with this secret, or None (absent, revoked, or
    another organization's: all the same to the caller)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ScimToken.objects.select_related("organization")
        .filter(
            token_hash=_hash(secret),
            organization__slug=organization_slug,
            revoked_at__isnull=True,
        )
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def scim_tokens_of(*, organization: Organization):
    return ScimToken.objects.filter(organization=organization)
