"""What the consent page shows, and who may grant: a signed-in member of the organization whose
gateway endpoint(s) the client asks for (the `resource` parameters), who holds connections
(owners and members; auditors hold none)."""

from dataclasses import dataclass

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.tool_policy import connector_tools
from orgconnectors.gateway.authorization import endpoints
from orgconnectors.gateway.listing import handed_out
from orgconnectors.organizations.models import Membership


class ConsentRefused(Exception):
    """The member may not grant this; the message says why and what to do."""

    def __init__(self, message: str, *, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ConsentTool:
    name: str
    title: str
    read_only: bool
    destructive: bool


@dataclass(frozen=True)
class ConsentItem:
    membership: Membership
    connector: Connector
    endpoint_url: str
    tools: list[ConsentTool]  # what the client will reach: the gateway's own listing
    blocked_tools: int  # known tools it will not reach (blocked, or held for review)
    connected: bool  # whether the member has connected the server itself


def reachable_tools(connector: Connector) -> tuple[list[ConsentTool], int]:
    """The tools the client will reach through the gateway (the same listing its tools/list
    answers with), and how many other known tools it will not."""
    listing = handed_out(connector)
    tools = []
    for definition in listing:
        annotations = definition.get("annotations") or {}
        tools.append(
            ConsentTool(
                name=definition["name"],
                title=definition.get("title") or annotations.get("title") or "",
                read_only=bool(annotations.get("readOnlyHint")),
                destructive=bool(annotations.get("destructiveHint")),
            )
        )
    known = {state.name for state in connector_tools(connector)}
    return tools, len(known - {tool.name for tool in tools})


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
        tools, blocked = reachable_tools(connector)
        connected = Connection.objects.filter(
            membership=membership, connector=connector, state=Connection.State.ENABLED
        ).exists()
        items.append(ConsentItem(membership, connector, resource, tools, blocked, connected))
    return items
