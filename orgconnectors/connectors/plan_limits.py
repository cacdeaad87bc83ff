"""The plan's limits, in one place: how many connections a member has in use at a time, how many
connectors owners register, and what a lower limit does to the connections already in use.

The numbers are the plan's (organizations/models.py: Plan, and Organization's Enterprise
override); this module says how they fall on connectors and connections. Every check runs under
row locks its caller took, in the one order every writer keeps (the organization, then its
memberships by id, then their connections), so concurrent connects, plan changes and
registrations are serialised and none slips past a limit:

- a connect locks its membership, then counts (`connection_limit_check`);
- a plan change locks the organization and every membership, then suspends the connections over
  the new limit (organizations/plan_change.py, through the two functions registered below);
- a registration locks the organization, then counts its connectors
  (`custom_connector_limit_check`).
"""

from django.utils import timezone

from orgconnectors.connectors.errors import ConnectionLimitReached, ConnectorError
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.organizations.models import Membership, Organization, Plan
from orgconnectors.organizations.plan_change import (
    ConnectionLimits,
    MemberImpact,
    connection_limits_register,
)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def connection_limit_check(*, membership: Membership, connector: Connector) -> None:
    """Refuse `connector` when the member already has the plan's number of connections in use.

    The caller holds the membership's row lock and read the organization (and its plan) after
    taking it, so a plan change the lock waited for is the one that counts."""
    limit = membership.organization.max_enabled_connections
    in_use = list(
        Connection.objects.filter(membership=membership, state__in=Connection.IN_USE)
        .select_related("connector")
        .order_by("-enabled_at", "-id")
    )
    if len(in_use) < limit:
        return
    names = ", ".join(c.connector.name for c in in_use) or "none"
    raise ConnectionLimitReached(
        f"The {membership.organization.plan.name} plan allows "
        f"{_plural(limit, 'enabled connection')} at a time, and you already have "
        f"{len(in_use)}: {names}. Disconnect one before connecting {connector.name}.",
        limit=limit,
        enabled=[c.connector_id for c in in_use],
    )


def custom_connector_limit_check(*, organization: Organization) -> None:
    """Refuse another connector when the plan caps how many the organization registers. The
    caller holds the organization's row lock, which serialises registrations."""
    plan = organization.plan
    if plan.owners_register_connectors:
        return
    limit = plan.max_custom_connectors
    if limit is None:
        return
    count = Connector.objects.filter(organization=organization).count()
    if count >= limit:
        raise ConnectorError(
            f"The {plan.name} plan allows {_plural(limit, 'custom connector')}, "
            f"and this account has {count}. Remove one or upgrade the plan to add another."
        )


def connection_limit_impacts(*, organization: Organization, limit: int) -> list[MemberImpact]:
    """Who would keep and who would lose which connection under `limit`: each member keeps their
    most recently enabled connections, the rest would be suspended."""
    connections = (
        Connection.objects.filter(
            membership__organization=organization, state__in=Connection.IN_USE
        )
        .select_related("connector", "membership__user")
        .order_by("membership_id", "-enabled_at", "-id")
    )
    impacts: dict[int, MemberImpact] = {}
    for connection in connections:
        impact = impacts.setdefault(
            connection.membership_id, MemberImpact(membership=connection.membership)
        )
        if len(impact.kept) < limit:
            impact.kept.append(connection)
        else:
            impact.suspended.append(connection)
    return list(impacts.values())


def connections_over_limit_suspend(*, connection_ids: list[int], plan: Plan, limit: int) -> None:
    """Suspend the connections a plan change left over its limit; their members connect them
    again themselves. The caller holds every membership's row lock."""
    if not connection_ids:
        return
    Connection.objects.filter(pk__in=connection_ids).update(
        state=Connection.State.SUSPENDED,
        state_reason=(
            f"Suspended when the organization moved to the {plan.name} plan, which allows "
            f"{_plural(limit, 'connection')} at a time. Disconnect another to use this one again."
        ),
        updated_at=timezone.now(),
    )


# The connectors app sits above organizations, which applies plan changes through these.
connection_limits_register(
    ConnectionLimits(impacts=connection_limit_impacts, suspend=connections_over_limit_suspend)
)
