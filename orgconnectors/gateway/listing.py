"""Which tools the gateway hands out for a connector, and why a tool that is not handed out is
refused. The listing comes from ONE function, `handed_out`."""

from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.tool_policy import connector_tools

_ANY_OBJECT = {"type": "object"}


def _from_policy(connector: Connector) -> list[dict]:
    """The enabled tools of the tool policy, as last discovered (until approved listings)."""
    discovered = {t.get("name"): t for t in connector.discovered_tools or [] if t.get("name")}
    listing = []
    for state in connector_tools(connector):
        if not state.enabled or not state.discovered:
            continue
        tool = discovered[state.name]
        definition = {"name": state.name, "inputSchema": tool.get("inputSchema") or _ANY_OBJECT}
        for key in ("title", "description", "outputSchema", "annotations"):
            if tool.get(key):
                definition[key] = tool[key]
        listing.append(definition)
    return listing


def handed_out(connector: Connector) -> list[dict]:
    """The definitions members get in tools/list; only these may be called."""
    return _from_policy(connector)


def refusal(connector: Connector, name: str) -> str:
    """Why `name`, not handed out, may not be called: blocked, held or unknown."""
    for state in connector_tools(connector):
        if state.name == name:
            if not state.enabled:
                return f"The tool {name!r} is blocked by your organization on {connector.name}."
            return f"The tool {name!r} is held for review by your organization's owners."
    return f"Unknown tool {name!r}: {connector.name} hands out no tool of that name."
