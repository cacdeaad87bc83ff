from django.conf import settings
from ninja import Router, Status

from orgconnectors.api.access import OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.identity_schemas import (
    ConnectorAccessIn,
    ConnectorAccessOut,
    ScimTokenCreatedOut,
    ScimTokenCreateIn,
    ScimTokenOut,
    SingleSignOnIn,
    SingleSignOnOut,
)
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.connectors.group_access import connector_access_set
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.identity.scim_tokens import scim_token_create, scim_tokens_of
from orgconnectors.identity.sso_routing import sso_endpoints
from orgconnectors.identity.sso_selectors import single_sign_on_of
from orgconnectors.identity.sso_settings import sso_configure, sso_remove

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


def _single_sign_on_out(organization) -> dict:
    sso = single_sign_on_of(organization=organization)
    answer: dict = {"configured": sso is not None, **sso_endpoints(organization)}
    if sso is not None:
        answer.update(
            protocol=sso.protocol,
            issuer=sso.issuer,
            client_id=sso.client_id,
            has_client_secret=sso.has_client_secret,
            metadata_url=sso.metadata_url,
            metadata_fetched_at=sso.metadata_fetched_at,
            saml_idp_entity_id=sso.saml_entity_id,
            default_role=sso.default_role,
            require_sso=sso.require_sso,
        )
    return answer


@router.get(
    "/{org}/sso",
    response={200: SingleSignOnOut, **ACCESS_ERRORS},
    operation_id="sso_get",
    summary="The organization's single sign-on (owners); never the client secret",
    description="Also when none is configured: the redirect URI (OpenID Connect) and the ACS "
    "URL and entity id (SAML) to register at the identity provider first.",
)
@needs_scope(READ)
def sso_get(request, org: str):
    membership = caller_membership(request, org, OWNER)
    return _single_sign_on_out(membership.organization)


@router.put(
    "/{org}/sso",
    response={200: SingleSignOnOut, **INPUT_ERRORS},
    operation_id="sso_configure",
    summary="Configure single sign-on (owners): OpenID Connect or SAML 2.0",
    description="OpenID Connect: the issuer's discovery document is read (through the egress "
    "guard: public addresses only) and must name the same issuer. SAML: the IdP's metadata is "
    "read from `metadata_url` or `metadata_xml`; when it lists several identity providers, "
    "`saml_idp_entity_id` chooses one (`saml_entity_id` in the answer is orgconnectors' own, "
    "to register at the provider). People of the organization's verified domains "
    "join at their first sign-in with `default_role`.",
)
@needs_scope(ADMIN)
def sso_put(request, org: str, payload: SingleSignOnIn):
    membership = caller_membership(request, org, OWNER)
    sso_configure(
        organization=membership.organization,
        protocol=payload.protocol,
        issuer=payload.issuer,
        client_id=payload.client_id,
        client_secret=payload.client_secret,
        metadata_url=payload.metadata_url,
        metadata_xml=payload.metadata_xml,
        saml_entity_id=payload.saml_idp_entity_id,
        default_role=payload.default_role,
        actor=caller_actor(request),
    )
    return _single_sign_on_out(membership.organization)


@router.delete(
    "/{org}/sso",
    response={204: None, **INPUT_ERRORS},
    operation_id="sso_remove",
    summary="Remove single sign-on (owners); people sign in with their password again",
)
@needs_scope(ADMIN)
def sso_delete(request, org: str):
    membership = caller_membership(request, org, OWNER)
    sso_remove(organization=membership.organization, actor=caller_actor(request))
    return Status(204, None)
