"""Which tools the gateway hands out for a connector, and why a tool that is not handed out is
refused. The listing comes from ONE function, `handed_out`: the approved definitions of Tool
governance (connectors/tool_review.py), never the live server's."""

from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.tool_review import (
    CHANGED,
    NEW,
    REMOVED,
    connector_tool_reviews,
    handed_out_tools,
)

_ANY_OBJECT = {"type": "object"}
_HELD = {
    NEW: "is new and held until an owner of your organization approves it",
    CHANGED: "changed on the server and is held until an owner of your organization reviews it",
    REMOVED: "is no longer listed by the server",
}


def handed_out(connector: Connector) -> list[dict]:
    """The definitions members get in tools/list; only these may be called."""
    listing = []
    for definition in handed_out_tools(connector):
        definition = dict(definition)
        definition.setdefault("inputSchema", _ANY_OBJECT)  # required by MCP; old records lack it
        listing.append(definition)
    return listing


def refusals(connector: Connector, handed: set[str]) -> dict[str, str]:
    """Why each tool known for the connector but not handed out may not be called."""
    found = {}
    for review in connector_tool_reviews(connector):
        if review.name in handed:
            continue
        if not review.allowed:
            why = f"is blocked by your organization on {connector.name}"
        else:
            why = _HELD.get(
                review.review, "is held until an owner of your organization approves it"
            )
        found[review.name] = f"The tool {review.name!r} {why}."
    return found
