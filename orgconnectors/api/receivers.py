"""Memberships that end or shrink take the person's API tokens with them."""

from django.dispatch import receiver

from orgconnectors.api.scopes import scopes_for_role
from orgconnectors.api.tokens import api_tokens_revoke_beyond
from orgconnectors.organizations.membership_signals import (
    membership_ended,
    membership_mfa_required,
    membership_role_changed,
)


@receiver(membership_ended, dispatch_uid="api_tokens_end_with_membership")
def revoke_tokens_of_ended_membership(sender, membership, actor, **kwargs):
    # Otherwise they would work again the day the person is invited back.
    api_tokens_revoke_beyond(
        user=membership.user,
        organization=membership.organization,
        allowed_scopes=(),
        actor=actor,
        reason="membership ended",
    )


@receiver(membership_role_changed, dispatch_uid="api_tokens_shrink_with_role")
def revoke_tokens_beyond_new_role(sender, membership, before, after, actor, **kwargs):
    api_tokens_revoke_beyond(
        user=membership.user,
        organization=membership.organization,
        allowed_scopes=scopes_for_role(after),
        actor=actor,
        reason=f"role changed from {before} to {after}",
    )


@receiver(membership_mfa_required, dispatch_uid="api_tokens_end_when_mfa_required")
def revoke_tokens_when_mfa_required(sender, membership, actor, **kwargs):
    # Tokens made before the requirement may come from a session that never used a second factor.
    api_tokens_revoke_beyond(
        user=membership.user,
        organization=membership.organization,
        allowed_scopes=(),
        actor=actor,
        reason="two-factor authentication now required",
    )
