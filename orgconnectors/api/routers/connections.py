from ninja import Router

from orgconnectors.api.access import AUDITOR, MEMBER, OWNER, caller_actor, caller_membership
from orgconnectors.api.schemas import (
    ACCESS_ERRORS,
    INPUT_ERRORS,
    ConnectionStatusOut,
    LimitReachedOut,
    MyConnectionOut,
)
from orgconnectors.connectors.models import Connection
from orgconnectors.connectors.selectors import connector_get, connectors_for_member
from orgconnectors.connectors.services import connection_disable, connection_enable

router = Router(tags=["connections"])


@router.get(
    "/{org}/connections",
    response={200: list[MyConnectionOut], **ACCESS_ERRORS},
    operation_id="connection_list",
    summary="Your own connection to each of the organization's connectors",
)
def connection_list(request, org: str):
    membership = caller_membership(request, org, OWNER, MEMBER, AUDITOR)
    return [
        {
            "connector_id": row.connector.pk,
            "connector_name": row.connector.name,
            "status": row.state,
            "enabled_at": row.connection.enabled_at if row.connection else None,
            "reason": row.connection.state_reason if row.connection else "",
        }
        for row in connectors_for_member(membership=membership)
    ]


@router.put(
    "/{org}/connectors/{connector_id}/connection",
    response={200: ConnectionStatusOut, 409: LimitReachedOut, **INPUT_ERRORS},
    operation_id="connection_enable",
    summary="Connect yourself to a connector, within the plan's limit",
)
def connection_put(request, org: str, connector_id: int):
    membership = caller_membership(request, org, OWNER, MEMBER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    connection = connection_enable(
        membership=membership, connector=connector, actor=caller_actor(request)
    )
    return {"status": connection.state}


@router.delete(
    "/{org}/connectors/{connector_id}/connection",
    response={200: ConnectionStatusOut, **INPUT_ERRORS},
    operation_id="connection_disable",
    summary="Disconnect yourself from a connector; harmless when not connected",
)
def connection_delete(request, org: str, connector_id: int):
    membership = caller_membership(request, org, OWNER, MEMBER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    connection_disable(membership=membership, connector=connector, actor=caller_actor(request))
    return {"status": Connection.State.DISABLED}
