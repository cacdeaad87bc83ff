"""What the consent page shows, and who may grant: a signed-in member of the organization whose
gateway endpoint(s) the client asks for (the `resource` parameters), who holds connections
(owners and members; auditors hold none)."""

from dataclasses import dataclass

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.tool_policy import ToolState, connector_tools
from orgconnectors.gateway.authorization import endpoints
from orgconnectors.organizations.models import Membership


class ConsentRefused(Exception):
    """The member may not grant this; the message says why and what to do."""

    def __init__(self, message: str, *, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ConsentItem:
    membership: Membership
    connector: Connector
    endpoint_url: str
    tools: list[ToolState]  # the tools the client will reach (allowed by the tool policy)
    blocked_tools: int
    connected: bool  # whether the member has connected the server itself


def handed_out_tools(connector: Connector) -> tuple[list[ToolState], int]:
    """The tools the client will reach through the gateway, and how many are blocked."""
    states = connector_tools(connector)
    allowed = [state for state in states if state.enabled]
    return allowed, len(states) - len(allowed)


def consent_reach(*, user, resources: list[str]) -> list[ConsentItem]:
    if not resources:
        raise ConsentRefused(
            "The application did not say which gateway endpoint it wants (the `resource` "
            "parameter); add the endpoint's URL as the MCP server in the application.",
            status=400,
        )
    items: list[ConsentItem] = []
    for resource in resources:
        endpoint = endpoints.endpoint_for_resource(resource)
        if endpoint is None:
            raise ConsentRefused(
                f"{resource} is not an endpoint of this gateway; endpoints look like "
                f"{endpoints.base_url()}/mcp/<organization>/<connector>.",
                status=400,
            )
        membership = (
            Membership.objects.select_related("organization")
            .filter(user=user, organization__slug=endpoint.organization_slug)
            .first()
        )
        if membership is None:
            raise ConsentRefused(
                f"You ({user.email}) are not a member of the organization that "
                f"{resource} belongs to. Sign in with the account that is, or ask its owners "
                "to invite you."
            )
        if not membership.can_connect:
            raise ConsentRefused(
                f"Auditors of {membership.organization.name} hold no connections, so they cannot "
                "let an application call its servers."
            )
        connector = (
            Connector.objects.filter(pk=endpoint.connector_id, organization=membership.organization)
            .prefetch_related("tool_overrides")
            .first()
        )
        if connector is None:
            raise ConsentRefused(
                f"{membership.organization.name} has no connector at {resource}; it may have "
                "been removed.",
                status=404,
            )
        tools, blocked = handed_out_tools(connector)
        connected = Connection.objects.filter(
            membership=membership, connector=connector, state=Connection.State.ENABLED
        ).exists()
        items.append(ConsentItem(membership, connector, resource, tools, blocked, connected))
    return items
