"""Members' connections to their organization's connectors: connect, within the plan's limit
(plan_limits.py), and disconnect. (OAuth authorization is in oauth/services.py, plan changes in
organizations/plan_change.py.)"""

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.group_access import connection_access_check
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.plan_limits import connection_limit_check
from orgconnectors.connectors.signals import connections_ending
from orgconnectors.core.actor import Actor
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.organizations.models import Membership, Organization


def _locked_connection(membership: Membership, connector: Connector) -> Connection | None:
    connection = (
        Connection.objects.select_for_update()
        .filter(membership=membership, connector=connector)
        .first()
    )
    if connection is not None:
        # The membership locked and read above and the connector given: what the connection's
        # audit target and the revocation name it by, without reading them again.
        connection.membership, connection.connector = membership, connector
    return connection


@retry_on_conflict
def connection_enable(*, membership: Membership, connector: Connector, actor: Actor) -> Connection:
    """Connect a member to a connector, within the plan's limit.

    The limit is checked under a row lock on the membership, so concurrent enables by the same
    member (two tabs, the API and the UI) are serialised and the N+1th is refused.
    """
    if connector.organization_id != membership.organization_id:
        raise ConnectorError("This connector belongs to another organization.", field="connector")
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=membership.pk)
        )
        # Read after the lock, in a statement of its own: joined to the locking statement, the
        # organization would be the version from before a plan change this lock waited for.
        membership.organization = Organization.objects.select_related("plan").get(
            pk=membership.organization_id
        )
        if not membership.can_connect:
            raise ConnectorError("Auditors review connectors; they cannot connect them.")
        connection = _locked_connection(membership, connector)
        if connection is not None and connection.in_use:
            return connection
        connection_access_check(membership=membership, connector=connector)
        connection_limit_check(membership=membership, connector=connector)
        before = connection.state if connection else None
        if connection is None:
            connection = Connection(membership=membership, connector=connector)
        if connector.auth == Connector.Auth.OAUTH:
            connection.state = Connection.State.NEEDS_AUTHORIZATION
            connection.state_reason = "Authorize with the server to finish connecting."
        else:
            connection.state = Connection.State.ENABLED
            connection.state_reason = ""
        connection.enabled_at = timezone.now()
        connection.save()
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="connection.enabled",
            target=connection,
            changes={"state": {"before": before, "after": connection.state}},
        )
    return connection


@retry_on_conflict
def connection_disable(
    *, membership: Membership, connector: Connector, actor: Actor
) -> Connection | None:
    if connector.organization_id != membership.organization_id:
        raise ConnectorError("This connector belongs to another organization.", field="connector")
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("organization", "user")
            .get(pk=membership.pk)
        )
        connection = _locked_connection(membership, connector)
        if connection is None or connection.state == Connection.State.DISABLED:
            return connection
        before = connection.state
        connection.state = Connection.State.DISABLED
        connection.state_reason = ""
        connection.save(update_fields=["state", "state_reason", "updated_at"])
        # The member's tokens are revoked at the server after commit (by the receivers), then
        # forgotten.
        connections_ending.send(sender=Connection, connections=[connection])
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="connection.disabled",
            target=connection,
            changes={"state": {"before": before, "after": connection.state}},
        )
    return connection
