"""What the organizations app tells the apps above it about memberships. Sent inside the
service's transaction, so what a receiver writes commits (or rolls back) with the change; the
organizations app never imports the apps that listen (the api app revokes API tokens here, the
oauth app the members' tokens at the servers)."""

from django.dispatch import Signal

# membership, actor: the member is about to lose every connection (the membership ends, or becomes
# an auditor's, who holds none), locked by the sender; its connections are still there.
membership_connections_ending = Signal()
# membership, actor: the membership is about to be deleted.
membership_ended = Signal()
# membership, before, after (roles), actor: the role has changed.
membership_role_changed = Signal()
# membership, actor: the organization now requires two-factor authentication of this member,
# whose credentials issued before must stop working.
membership_mfa_required = Signal()
