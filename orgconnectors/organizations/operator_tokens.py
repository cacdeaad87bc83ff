"""Operator tokens: the deployment's own bearer tokens for the operator API.

A database row rather than a setting, so an operator can name each token after who holds it,
see when it was last used and revoke it in the admin without a redeploy; only a SHA-256 hash of
the token is stored (the token is 256 random bits, so a fast hash is enough), and the token is
shown once, by `manage.py create_operator_token`. They belong to no organization: organization
API tokens and dashboard sessions are refused on the operator API.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from orgconnectors.core.actor import Actor
from orgconnectors.organizations.errors import OrganizationError
from orgconnectors.organizations.models import OperatorToken

TOKEN_PREFIX = "ocop_"
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def operator_token_create(*, name: str) -> tuple[OperatorToken, str]:
    """Returns the token's row and the token itself, which exists nowhere else after this call."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise OrganizationError(
            "Name the token after who holds it, in at most 100 characters.", field="name"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            operator_token = OperatorToken.objects.create(
                name=name, prefix=token[:12], token_hash=_hash(token)
            )
    except IntegrityError:
        raise OrganizationError(
            f"There is already an operator token named {name!r}; choose another name.",
            field="name",
        ) from None
    return operator_token, token


def operator_token_revoke(*, operator_token: OperatorToken) -> None:
    OperatorToken.objects.filter(pk=operator_token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def operator_token_authenticate(token: str) -> OperatorToken | None:
    """The live operator token for this secret, or None; touches last_used_at once a minute."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    operator_token = OperatorToken.objects.filter(
        token_hash=_hash(token), revoked_at__isnull=True
    ).first()
    if operator_token is None:
        return None
    now = timezone.now()
    if operator_token.last_used_at is None or (
        now - operator_token.last_used_at >= _LAST_USED_RESOLUTION
    ):
        OperatorToken.objects.filter(pk=operator_token.pk).update(last_used_at=now)
        operator_token.last_used_at = now
    return operator_token


def operator_actor(operator_token: OperatorToken, request=None) -> Actor:
    """How the operator appears in an organization's audit trail."""
    actor = Actor.system(f"operator ({operator_token.name})")
    if request is None:
        return actor
    return Actor(
        label=actor.label,
        ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
    )
