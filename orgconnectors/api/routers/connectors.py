from ninja import Router, Status

from orgconnectors.api.access import (
    AUDITOR,
    MEMBER,
    OWNER,
    caller_actor,
    caller_membership,
    needs_scope,
)
from orgconnectors.api.schemas import (
    ACCESS_ERRORS,
    INPUT_ERRORS,
    ConnectorCreateIn,
    ConnectorOut,
    ConnectorUpdateIn,
    ToolPolicyIn,
)
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.connectors.services import (
    connector_register,
    connector_remove,
    connector_set_tool_policy,
    connector_update,
)
from orgconnectors.health.selectors import (
    connector_with_last_outcome_get,
    connectors_with_last_outcome,
)

router = Router(tags=["connectors"])

ANY_ROLE = (OWNER, MEMBER, AUDITOR)


@router.get(
    "/{org}/connectors",
    response={200: list[ConnectorOut], **ACCESS_ERRORS},
    operation_id="connector_list",
    summary="The organization's connectors",
)
@needs_scope(READ)
def connector_list(request, org: str):
    membership = caller_membership(request, org, *ANY_ROLE)
    return connectors_with_last_outcome(organization=membership.organization)


@router.post(
    "/{org}/connectors",
    response={201: ConnectorOut, **INPUT_ERRORS},
    operation_id="connector_create",
    summary="Register a connector (owners)",
)
@needs_scope(ADMIN)
def connector_create(request, org: str, payload: ConnectorCreateIn):
    membership = caller_membership(request, org, OWNER)
    connector = connector_register(
        organization=membership.organization, actor=caller_actor(request), **payload.dict()
    )
    return Status(201, connector)


@router.get(
    "/{org}/connectors/{connector_id}",
    response={200: ConnectorOut, **INPUT_ERRORS},
    operation_id="connector_get",
    summary="One connector",
)
@needs_scope(READ)
def connector_read(request, org: str, connector_id: int):
    membership = caller_membership(request, org, *ANY_ROLE)
    return connector_with_last_outcome_get(
        organization=membership.organization, connector_id=connector_id
    )


@router.patch(
    "/{org}/connectors/{connector_id}",
    response={200: ConnectorOut, **INPUT_ERRORS},
    operation_id="connector_update",
    summary="Change a connector's settings (owners); fields not sent stay as they are",
)
@needs_scope(ADMIN)
def connector_change(request, org: str, connector_id: int, payload: ConnectorUpdateIn):
    membership = caller_membership(request, org, OWNER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    connector_update(
        connector=connector, actor=caller_actor(request), **payload.dict(exclude_unset=True)
    )
    # Read again for members_connected, the tools and the health, which the service does not
    # return.
    return connector_with_last_outcome_get(
        organization=membership.organization, connector_id=connector_id
    )


@router.delete(
    "/{org}/connectors/{connector_id}",
    response={204: None, **INPUT_ERRORS},
    operation_id="connector_delete",
    summary="Remove a connector (owners); every member loses it",
)
@needs_scope(ADMIN)
def connector_delete(request, org: str, connector_id: int):
    membership = caller_membership(request, org, OWNER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    connector_remove(connector=connector, actor=caller_actor(request))
    return Status(204, None)


@router.put(
    "/{org}/connectors/{connector_id}/tool-policy",
    response={200: ConnectorOut, **INPUT_ERRORS},
    operation_id="connector_tool_policy_set",
    summary="Replace a connector's tool policy (owners)",
)
@needs_scope(ADMIN)
def connector_tool_policy(request, org: str, connector_id: int, payload: ToolPolicyIn):
    membership = caller_membership(request, org, OWNER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    connector_set_tool_policy(
        connector=connector,
        actor=caller_actor(request),
        default=payload.default,
        overrides=payload.overrides,
    )
    return connector_with_last_outcome_get(
        organization=membership.organization, connector_id=connector_id
    )
