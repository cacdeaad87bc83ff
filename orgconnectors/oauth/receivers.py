"""Connections that end take the member's tokens with them: revoked at the server after commit
(revocation.py), whichever app ended them."""

from django.dispatch import receiver

from orgconnectors.connectors.signals import connections_ending
from orgconnectors.oauth.revocation import (
    connections_credentials_revoke,
    membership_credentials_revoke,
)
from orgconnectors.organizations.membership_signals import membership_connections_ending


@receiver(connections_ending, dispatch_uid="oauth_tokens_end_with_connections")
def revoke_tokens_of_ending_connections(sender, connections, **kwargs):
    connections_credentials_revoke(connections=connections)


@receiver(membership_connections_ending, dispatch_uid="oauth_tokens_end_with_membership")
def revoke_tokens_of_ending_membership(sender, membership, **kwargs):
    membership_credentials_revoke(membership=membership)
