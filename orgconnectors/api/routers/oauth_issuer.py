"""The authorization server a connector's own OAuth client belongs to (owners): read it, and
confirm a new one (or pin one ahead of the first authorization)."""

from datetime import datetime

from ninja import Field, Router, Schema

from orgconnectors.api.access import AUDITOR, OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.schemas import INPUT_ERRORS
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.oauth.errors import OAuthError
from orgconnectors.oauth.issuer_pins import connector_oauth_issuer_confirm
from orgconnectors.oauth.selectors import oauth_pin_view

router = Router(tags=["connectors"])


class OAuthIssuerOut(Schema):
    issuer: str = Field(description="Where the client ID and secret are sent; empty until known.")
    pinned_how: str
    pinned_at: datetime | None
    pending_issuer: str = Field(
        description="Another server the connector now names, waiting for an owner to confirm."
    )
    pending_since: datetime | None
    redirect_uri: str = Field(description="The redirect URI to register at that server.")


class OAuthIssuerIn(Schema):
    issuer: str = Field(description="The issuer URL of the server the client belongs to.")


def _view(connector) -> OAuthIssuerOut:
    view = oauth_pin_view(connector=connector)
    if view is None:
        raise OAuthError(
            f"{connector.name} has no OAuth client ID of its own; there is no server to show.",
            field="connector",
        )
    return OAuthIssuerOut(**view.__dict__)


@router.get(
    "/{org}/connectors/{connector_id}/oauth-issuer",
    response={200: OAuthIssuerOut, **INPUT_ERRORS},
    operation_id="connector_oauth_issuer_get",
    summary="The authorization server the connector's own OAuth client is sent to",
)
@needs_scope(READ)
def oauth_issuer_read(request, org: str, connector_id: int):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    return _view(connector_get(organization=membership.organization, connector_id=connector_id))


@router.put(
    "/{org}/connectors/{connector_id}/oauth-issuer",
    response={200: OAuthIssuerOut, **INPUT_ERRORS},
    operation_id="connector_oauth_issuer_confirm",
    summary="Confirm the authorization server of the connector's own OAuth client (owners)",
)
@needs_scope(ADMIN)
def oauth_issuer_confirm(request, org: str, connector_id: int, payload: OAuthIssuerIn):
    membership = caller_membership(request, org, OWNER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    connector_oauth_issuer_confirm(
        membership=membership,
        connector=connector,
        issuer=payload.issuer,
        actor=caller_actor(request),
    )
    return _view(connector)
