"""Who may connect a connector: everyone in the organization (the default), or the people of the
groups owners chose (provisioned by SCIM or made in the dashboard, identity app). A member outside
them does not see the connector on My connectors, cannot enable it (403 with the reason), and
loses the connection when they leave the last group that let them in or when owners narrow the
choice; ending it revokes their tokens at the server after commit, as a disconnection does."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.signals import connections_ending
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import NotAllowed, ServiceError
from orgconnectors.identity.models import ScimGroup
from orgconnectors.identity.signals import scim_group_members_removed
from orgconnectors.organizations.models import Membership

EVERYONE = "everyone"
GROUPS = "groups"


class ConnectorAccessRefused(NotAllowed):
    code = "not_in_allowed_group"


def open_to_q(*, user_id: int) -> Q:
    """Connectors the person may connect, as a filter on Connector."""
    return (
        Q(who_may_connect=EVERYONE)
        | Q(access_groups__members__user_id=user_id, access_groups__members__active=True)
        | Q(access_groups__dashboard_members__user_id=user_id)
    )


def member_may_connect(*, membership: Membership, connector: Connector) -> bool:
    """Read from the database (one query), not from the instance given, which may be older
    than the owners' last choice."""
    return (
        Connector.objects.filter(pk=connector.pk)
        .filter(open_to_q(user_id=membership.user_id))
        .exists()
    )


def refusal(connector: Connector) -> str:
    names = sorted(connector.access_groups.values_list("display_name", flat=True))
    groups = ", ".join(names) if names else "no group yet"
    return (
        f"Only members of chosen groups may connect {connector.name} ({groups}); ask an owner "
        "to add you to one."
    )


def connection_access_check(*, membership: Membership, connector: Connector) -> None:
    if not member_may_connect(membership=membership, connector=connector):
        raise ConnectorAccessRefused(refusal(connector), field="connector")


def _end_connections_outside(connector: Connector, actor: Actor, user_ids=None) -> list[int]:
    """End the connections of `connector` held by people it no longer lets in (of `user_ids`
    when given), inside the caller's transaction."""
    connections = (
        Connection.objects.select_for_update(of=("self",))
        .filter(connector=connector)
        .exclude(state=Connection.State.DISABLED)
    )
    if user_ids is not None:
        connections = connections.filter(membership__user_id__in=list(user_ids))
    ended = []
    for connection in connections.select_related(
        "membership__user", "membership__organization"
    ).order_by("pk"):
        if member_may_connect(membership=connection.membership, connector=connector):
            continue
        before = connection.state
        connection.connector = connector
        connection.state = Connection.State.DISABLED
        connection.state_reason = refusal(connector)
        connection.save(update_fields=["state", "state_reason", "updated_at"])
        connections_ending.send(sender=Connection, connections=[connection])
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="connection.disabled",
            target=connection,
            changes={
                "state": {"before": before, "after": connection.state},
                "reason": "not in an allowed group",
            },
        )
        ended.append(connection.pk)
    return ended


def connector_access_set(
    *, connector: Connector, who_may_connect: str, group_ids: Iterable[str], actor: Actor
) -> Connector:
    """Owners choose who may connect; the connections of people left out end."""
    if who_may_connect not in (EVERYONE, GROUPS):
        raise ServiceError(
            f"{who_may_connect!r} is not a choice; choose everyone or groups.",
            field="who_may_connect",
        )
    wanted = {str(group_id) for group_id in group_ids or []}
    groups = [
        group
        for group in ScimGroup.objects.filter(organization_id=connector.organization_id)
        if str(group.pk) in wanted
    ]
    missing = wanted - {str(group.pk) for group in groups}
    if missing:
        raise ServiceError(
            f"There is no group {sorted(missing)[0]!r} in this organization.", field="groups"
        )
    if who_may_connect == EVERYONE and groups:
        raise ServiceError("Choose groups only when only groups may connect.", field="groups")
    with transaction.atomic():
        connector = (
            Connector.objects.select_for_update()
            .select_related("organization")
            .get(pk=connector.pk)
        )
        before = {
            "who_may_connect": connector.who_may_connect,
            "groups": sorted(g.display_name for g in connector.access_groups.all()),
        }
        connector.who_may_connect = who_may_connect
        connector.save(update_fields=["who_may_connect"])
        connector.access_groups.set(groups)
        after = {
            "who_may_connect": who_may_connect,
            "groups": sorted(g.display_name for g in groups),
        }
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="connector.access_changed",
            target=connector,
            changes={key: {"before": before[key], "after": after[key]} for key in before},
        )
        _end_connections_outside(connector, actor)
    return connector


@receiver(scim_group_members_removed, dispatch_uid="connectors.group_members_removed")
def _group_members_removed(sender, group, user_ids, actor, **kwargs) -> None:
    """People who left a group lose the connections only that group let them hold."""
    for connector in Connector.objects.filter(
        who_may_connect=GROUPS, access_groups=group
    ).select_related("organization"):
        _end_connections_outside(connector, actor, user_ids=user_ids)
