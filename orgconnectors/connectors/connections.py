"""Members' connections to their organization's connectors: connect, within the plan's limit,
and disconnect. (OAuth authorization is in oauth/services.py, plan changes in organizations/.)"""

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.errors import ConnectionLimitReached, ConnectorError
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.core.actor import Actor
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.oauth.revocation import connection_credential_revoke
from orgconnectors.organizations.models import Membership, Organization


def _limit_message(membership: Membership, limit: int, in_use: list[Connection], wanted) -> str:
    plan = membership.organization.plan
    names = ", ".join(c.connector.name for c in in_use) or "none"
    plural = "s" if limit != 1 else ""
    return (
        f"The {plan.name} plan allows {limit} enabled connection{plural} at a time, and you "
        f"already have {len(in_use)}: {names}. Disconnect one before connecting {wanted.name}."
    )


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
        limit = membership.organization.max_enabled_connections
        in_use = list(
            Connection.objects.filter(membership=membership, state__in=Connection.IN_USE)
            .select_related("connector")
            .order_by("-enabled_at", "-id")
        )
        if len(in_use) >= limit:
            raise ConnectionLimitReached(
                _limit_message(membership, limit, in_use, connector),
                limit=limit,
                enabled=[c.connector_id for c in in_use],
            )
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
        # The member's tokens are revoked at the server after commit, then forgotten.
        connection_credential_revoke(connection=connection)
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="connection.disabled",
            target=connection,
            changes={"state": {"before": before, "after": connection.state}},
        )
    return connection
