from ninja import Router

from orgconnectors.api.access import (
    AUDITOR,
    MEMBER,
    OWNER,
    caller_actor,
    caller_membership,
    needs_scope,
)
from orgconnectors.api.models import ApiToken
from orgconnectors.api.schemas import (
    ACCESS_ERRORS,
    INPUT_ERRORS,
    ConnectionEnableOut,
    ConnectionStatusOut,
    ErrorOut,
    LimitReachedOut,
    MyConnectionOut,
    StepUpIn,
    StepUpOut,
)
from orgconnectors.api.scopes import CONNECTIONS, READ
from orgconnectors.connectors.connections import connection_disable
from orgconnectors.connectors.models import Connection
from orgconnectors.connectors.selectors import connection_for, connector_get, connectors_for_member
from orgconnectors.oauth.services import connection_step_up, oauth_connection_enable

router = Router(tags=["connections"])


@router.get(
    "/{org}/connections",
    response={200: list[MyConnectionOut], **ACCESS_ERRORS},
    operation_id="connection_list",
    summary="Your own connection to each of the organization's connectors",
)
@needs_scope(READ)
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


def _session_key(request) -> str | None:
    # A personal API token has no browser session to bind an authorization to; the callback
    # then only requires the token's user to be signed in.
    if isinstance(request.auth, ApiToken):
        return None
    return request.session.session_key


@router.put(
    "/{org}/connectors/{connector_id}/connection",
    response={200: ConnectionEnableOut, 409: LimitReachedOut, **INPUT_ERRORS},
    operation_id="connection_enable",
    summary="Connect yourself to a connector, within the plan's limit",
    description="For an OAuth connector the answer is `needs_authorization` with the "
    "`authorize_url` to open in your browser (or a `reason` it cannot start).",
    exclude_none=True,
)
@needs_scope(CONNECTIONS)
def connection_put(request, org: str, connector_id: int):
    membership = caller_membership(request, org, OWNER, MEMBER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    enabled = oauth_connection_enable(
        membership=membership,
        connector=connector,
        session_key=_session_key(request),
        actor=caller_actor(request),
    )
    return {
        "status": enabled.connection.state,
        "authorize_url": enabled.authorize_url,
        "reason": enabled.reason or None,
    }


@router.post(
    "/{org}/connectors/{connector_id}/connection/step-up",
    response={200: StepUpOut, 409: ErrorOut, **INPUT_ERRORS},
    operation_id="connection_step_up",
    summary="Authorize again with more scopes, after a 403 insufficient_scope",
    description="Asks for the granted scopes plus `scope`. After 2 authorizations for the same "
    "scopes the server is not asked again: the answer is 409 and the connection says why.",
)
@needs_scope(CONNECTIONS)
def connection_step_up_post(request, org: str, connector_id: int, body: StepUpIn):
    membership = caller_membership(request, org, OWNER, MEMBER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    url = connection_step_up(
        membership=membership,
        connector=connector,
        scope=body.scope,
        actor=caller_actor(request),
        session_key=_session_key(request),
    )
    return {
        "status": connection_for(membership=membership, connector=connector).state,
        "authorize_url": url,
    }


@router.delete(
    "/{org}/connectors/{connector_id}/connection",
    response={200: ConnectionStatusOut, **INPUT_ERRORS},
    operation_id="connection_disable",
    summary="Disconnect yourself from a connector; harmless when not connected",
)
@needs_scope(CONNECTIONS)
def connection_delete(request, org: str, connector_id: int):
    membership = caller_membership(request, org, OWNER, MEMBER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    connection_disable(membership=membership, connector=connector, actor=caller_actor(request))
    return {"status": Connection.State.DISABLED}
