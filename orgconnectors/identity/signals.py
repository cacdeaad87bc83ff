"""What the identity app tells the apps above it. Sent inside the service's transaction."""

from django.dispatch import Signal

# group, user_ids (the accounts that left the group, or all of its people when it is about to be
# deleted), actor: the connectors app ends the connections these people held only through it.
scim_group_members_removed = Signal()
