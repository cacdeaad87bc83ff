"""The organization's tool policy: a default (allow or block) plus per-tool overrides."""

from dataclasses import dataclass

from orgconnectors.connectors.models import Connector


@dataclass(frozen=True)
class ToolState:
    name: str
    enabled: bool
    overridden: bool
    title: str = ""
    description: str = ""
    read_only: bool | None = None
    destructive: bool | None = None
    discovered: bool = True


def connector_tools(connector: Connector) -> list[ToolState]:
    """Every tool known for the connector, discovered or named by an override, with its state.

    Expects `tool_overrides` prefetched when called over many connectors.
    """
    default_enabled = connector.tool_default == Connector.ToolDefault.ALLOW
    overrides = {o.tool_name: o.enabled for o in connector.tool_overrides.all()}
    states: list[ToolState] = []
    seen: set[str] = set()
    for tool in connector.discovered_tools or []:
        name = tool.get("name")
        if not name or name in seen:
            continue
        seen.add(name)
        annotations = tool.get("annotations") or {}
        states.append(
            ToolState(
                name=name,
                enabled=overrides.get(name, default_enabled),
                overridden=name in overrides,
                title=tool.get("title") or annotations.get("title") or "",
                description=tool.get("description") or "",
                read_only=annotations.get("readOnlyHint"),
                destructive=annotations.get("destructiveHint"),
            )
        )
    for name, enabled in sorted(overrides.items()):
        if name not in seen:
            states.append(ToolState(name=name, enabled=enabled, overridden=True, discovered=False))
    return states
