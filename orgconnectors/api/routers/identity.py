from django.conf import settings
from ninja import Router, Status

from orgconnectors.api.access import OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.identity_schemas import ScimTokenCreatedOut, ScimTokenCreateIn, ScimTokenOut
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS
from orgconnectors.api.scopes import ADMIN, READ
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
