from django.conf import settings
from ninja import Router, Status

from orgconnectors.api.access import OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.identity_schemas import (
    ConnectorAccessIn,
    ConnectorAccessOut,
    ScimTokenCreatedOut,
    ScimTokenCreateIn,
    ScimTokenOut,
)
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.connectors.group_access import connector_access_set
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.identity.scim_tokens import scim_token_create, scim_tokens_of

router = Router(tags=["identity"])


@router.get(
    "/{org}/scim-tokens",
    response={200: list[ScimTokenOut], **ACCESS_ERRORS},
    operation_id="scim_token_list",
    summary="The organization's SCIM tokens (owners; never the tokens themselves)",
)
@needs_scope(READ)
def scim_token_list(request, org: str):
    membership = caller_membership(request, org, OWNER)
    return scim_tokens_of(organization=membership.organization)


@router.post(
    "/{org}/scim-tokens",
    response={201: ScimTokenCreatedOut, **INPUT_ERRORS},
    operation_id="scim_token_create",
    summary="Create a SCIM token for the identity provider (owners); the answer shows it once",
    description="The identity provider sends it as `Authorization: Bearer …` to "
    "`/scim/v2/{org}/`, which provisions and deprovisions the organization's people and groups "
    "(docs/identity.md). Only a hash is stored; revoke it on the Sign-in page.",
)
@needs_scope(ADMIN)
def scim_token_create_view(request, org: str, payload: ScimTokenCreateIn):
    membership = caller_membership(request, org, OWNER)
    token, secret = scim_token_create(
        organization=membership.organization, name=payload.name, actor=caller_actor(request)
    )
    token.token = secret
    token.scim_base_url = f"{settings.ORGCONNECTORS_BASE_URL}/scim/v2/{org}/"
    return Status(201, token)


@router.put(
    "/{org}/connectors/{connector_id}/access",
    response={200: ConnectorAccessOut, **INPUT_ERRORS},
    operation_id="connector_access_set",
    summary="Choose who may connect a connector: everyone, or the people of chosen groups",
    description="People left out lose their connection at once (their tokens are revoked at the "
    "server), do not see the connector on My connectors, and are refused with a 403 naming the "
    "groups when they try to connect.",
)
@needs_scope(ADMIN)
def connector_access_put(request, org: str, connector_id: int, payload: ConnectorAccessIn):
    membership = caller_membership(request, org, OWNER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    connector = connector_access_set(
        connector=connector,
        who_may_connect=payload.who_may_connect,
        group_ids=payload.groups,
        actor=caller_actor(request),
    )
    return {
        "who_may_connect": connector.who_may_connect,
        "groups": [
            {"id": str(group.pk), "display_name": group.display_name}
            for group in connector.access_groups.all()
        ],
    }
