"""Reads of connectors and connections, always starting from the organization."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from orgconnectors.connectors.group_access import open_to_q
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.organizations.models import Membership, Organization

_IN_USE = Q(connections__state__in=Connection.IN_USE)


def connectors_of(*, organization: Organization) -> QuerySet[Connector]:
    return (
        Connector.objects.filter(organization=organization)
        .annotate(members_connected=Count("connections", filter=_IN_USE))
        .prefetch_related("tool_overrides")
        .order_by("name", "id")
    )


def connector_get(*, organization: Organization, connector_id) -> Connector:
    try:
        return connectors_of(organization=organization).get(pk=int(connector_id))
    except (Connector.DoesNotExist, ValueError, TypeError):
        raise Http404("No such connector") from None


@dataclass(frozen=True)
class MemberConnector:
    connector: Connector
    connection: Connection | None

    @property
    def state(self) -> str:
        return self.connection.state if self.connection else Connection.State.DISABLED

    @property
    def in_use(self) -> bool:
        return bool(self.connection and self.connection.in_use)


def connectors_for_member(*, membership: Membership) -> list[MemberConnector]:
    """Every connector of the member's organization they may connect (everyone's, and those of
    their groups: connectors/group_access.py), with the member's own connection if any."""
    connectors = (
        Connector.objects.filter(
            open_to_q(user_id=membership.user_id), organization_id=membership.organization_id
        )
        .distinct()
        .prefetch_related(
            Prefetch(
                "connections",
                queryset=Connection.objects.filter(membership=membership),
                to_attr="own_connections",
            )
        )
    )
    return [
        MemberConnector(connector=c, connection=(c.own_connections or [None])[0])
        for c in connectors.order_by("name", "id")
    ]


def connection_usage(*, membership: Membership) -> tuple[int, int]:
    """(connections in use, the limit) for the member."""
    in_use = Connection.objects.filter(membership=membership, state__in=Connection.IN_USE).count()
    return in_use, membership.organization.max_enabled_connections


def connections_in_use_of(*, membership: Membership) -> list[Connection]:
    """The member's connections that count against the limit, with their connectors, by name."""
    return list(
        Connection.objects.filter(membership=membership, state__in=Connection.IN_USE)
        .select_related("connector")
        .order_by("connector__name", "connector_id")
    )


def connection_for(*, membership: Membership, connector: Connector) -> Connection | None:
    return Connection.objects.filter(membership=membership, connector=connector).first()


def connector_members(*, connector: Connector) -> QuerySet[Connection]:
    """The connections in use of a connector, with their member, for "who uses it"."""
    return (
        Connection.objects.filter(connector=connector, state__in=Connection.IN_USE)
        .select_related("membership__user")
        .order_by("membership__user__email")
    )
