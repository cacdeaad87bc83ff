"""What the token check hears about: memberships ending or changing role, tokens deleted.

A member removed (or whose connections end) loses their gateway tokens of that organization, and
this process forgets it accepted them, at once and again after commit; other processes forget
within ORGCONNECTORS_GATEWAY_CACHE_SECONDS (access_tokens.py).
"""

from allauth.idp.oidc.models import Token
from django.db import transaction
from django.db.models.signals import post_delete

from orgconnectors.gateway.authorization.access_tokens import (
    forget,
    forget_token,
    gateway_tokens_delete,
)
from orgconnectors.organizations.membership_signals import (
    membership_connections_ending,
    membership_ended,
    membership_role_changed,
)


def _forget_membership(membership) -> None:
    user_id, organization_id = membership.user_id, membership.organization_id
    forget(user_id=user_id, organization_id=organization_id)
    transaction.on_commit(lambda: forget(user_id=user_id, organization_id=organization_id))


def on_membership_ending(sender, membership, **kwargs) -> None:
    gateway_tokens_delete(
        user_id=membership.user_id, organization_slug=membership.organization.slug
    )
    _forget_membership(membership)


def on_role_changed(sender, membership, **kwargs) -> None:
    _forget_membership(membership)


def on_token_deleted(sender, instance, **kwargs) -> None:
    forget_token(instance.pk)


def connect() -> None:
    membership_ended.connect(on_membership_ending, dispatch_uid="gateway-tokens-membership-ended")
    membership_connections_ending.connect(
        on_membership_ending, dispatch_uid="gateway-tokens-connections-ending"
    )
    membership_role_changed.connect(on_role_changed, dispatch_uid="gateway-tokens-role-changed")
    post_delete.connect(on_token_deleted, sender=Token, dispatch_uid="gateway-token-deleted")
