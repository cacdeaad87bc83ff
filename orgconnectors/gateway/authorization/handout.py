"""The gateway's side of handing out configurations through it (messages_api/gateway_handout.py):
endpoint URLs, and a fresh access token per endpoint for the member."""

from orgconnectors.connectors.models import Connector
from orgconnectors.gateway.authorization.access_tokens import gateway_access_token_mint
from orgconnectors.gateway.authorization.endpoints import Endpoint
from orgconnectors.messages_api.gateway_handout import GatewayEndpoint, gateway_endpoints_register
from orgconnectors.organizations.models import Membership


def endpoints_for(
    membership: Membership, connector_ids: list[int], mint: bool
) -> dict[int, GatewayEndpoint]:
    slug = membership.organization.slug
    if not mint:
        return {cid: GatewayEndpoint(Endpoint(slug, cid).url, None, None) for cid in connector_ids}
    connectors = list(
        Connector.objects.filter(pk__in=connector_ids, organization=membership.organization)
    )
    minted = gateway_access_token_mint(membership=membership, connectors=connectors)
    return {
        cid: GatewayEndpoint(token.url, token.value, token.expires_at)
        for cid, token in minted.items()
    }


def install() -> None:
    gateway_endpoints_register(endpoints_for)
