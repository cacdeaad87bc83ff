"""Through the gateway: a built configuration's servers become the gateway's endpoints.

When the organization's members' apps reach servers through the gateway
(`Organization.member_apps_reach`), each `mcp_servers` entry's `url` becomes the connector's
gateway endpoint and its `authorization_token` a short-lived gateway access token for that
member: the upstream token never leaves orgconnectors. The gateway sits above this app, so it
registers the function that makes those endpoints and tokens when Django starts
(`gateway_endpoints_register`, called by orgconnectors.gateway.authorization), the way
connectors registers the plan's limits with organizations.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from orgconnectors.organizations.models import Membership, Organization

MASK = "•" * 8


@dataclass(frozen=True)
class GatewayEndpoint:
    url: str
    token: str | None  # None when only the URL was asked for (a masked preview)
    expires_at: datetime | None


# (membership, connector ids, mint tokens?) -> {connector id: GatewayEndpoint}
EndpointsFor = Callable[[Membership, list[int], bool], dict[int, GatewayEndpoint]]
_endpoints_for: list[EndpointsFor] = []


def gateway_endpoints_register(endpoints_for: EndpointsFor) -> None:
    _endpoints_for[:] = [endpoints_for]


def through_gateway(
    *, membership: Membership, config: dict, connector_ids: list[int], mint: bool
) -> dict:
    """The configuration as handed out: unchanged when the organization's apps reach servers
    directly; otherwise with the gateway's endpoints and tokens (`mint=False`: masked tokens).
    `connector_ids` are those of `config["mcp_servers"]`, in order."""
    organization = membership.organization
    if organization.member_apps_reach != Organization.MemberAppsReach.GATEWAY:
        return config
    if not _endpoints_for:
        raise RuntimeError(
            "No gateway is registered: orgconnectors.gateway.authorization must be in "
            "INSTALLED_APPS to hand out configurations through the gateway."
        )
    found = _endpoints_for[0](membership, connector_ids, mint)
    servers = []
    for entry, connector_id in zip(config["mcp_servers"], connector_ids, strict=True):
        endpoint = found[connector_id]
        rewritten = {**entry, "url": endpoint.url}
        rewritten["authorization_token"] = endpoint.token if mint else MASK
        servers.append(rewritten)
    expiries = [e.expires_at for e in found.values() if e.expires_at is not None]
    return {
        **config,
        "mcp_servers": servers,
        "expires_at": min(expiries) if expiries else None,
    }


def gateway_urls(*, membership: Membership, connector_ids: list[int]) -> dict[int, str] | None:
    """The gateway endpoint of each connector when the organization's apps reach servers
    through the gateway (for the Claude Code lines); None when they reach them directly."""
    if membership.organization.member_apps_reach != Organization.MemberAppsReach.GATEWAY:
        return None
    if not _endpoints_for or not connector_ids:
        return {} if _endpoints_for else None
    found = _endpoints_for[0](membership, connector_ids, False)
    return {connector_id: endpoint.url for connector_id, endpoint in found.items()}
