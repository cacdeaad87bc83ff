"""What the connectors app tells the apps above it. Sent inside the service's transaction, so
what a receiver writes commits (or rolls back) with the change; the connectors app never
imports the apps that listen (the oauth app revokes the members' tokens at the servers, after
commit)."""

from django.dispatch import Signal

# connections: a list of the Connection rows that end here (a member disconnects, or their
# connector is about to be deleted), locked by the sender in id order. What a receiver keeps for
# them must be settled now: a deleted connector takes its connections' rows with it.
connections_ending = Signal()
