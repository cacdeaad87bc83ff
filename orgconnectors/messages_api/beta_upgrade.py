"""A Messages API request body written for the deprecated MCP connector beta
(`mcp-client-2025-04-04`, with `tool_configuration` on each server) rewritten for
`mcp-client-2025-11-20` (one `mcp_toolset` per server in `tools`). Pure: JSON in, JSON out.

Only `mcp_servers[].tool_configuration`, the toolsets it becomes and a `betas` list are
touched; every other field of the request (model, messages, other tools) is kept as it was.
Invalid input is reported at its JSON path, e.g. `mcp_servers[1].tool_configuration.enabled`.

The target stays `mcp-client-2025-11-20`: an old request names tools, never their definitions,
so there is nothing to pin, and `mcp-client-2026-09-15` takes the same request as it is.
"""

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from orgconnectors.messages_api.builder import BETA_2025_11_20 as BETA  # the target
from orgconnectors.messages_api.builder import DEPRECATED_BETA

ROOT = ""  # the path of the request body itself
# Far deeper than any real request; bounded so that copying and rendering the answer, which
# recurse once per level, stay well inside Python's recursion limit.
MAX_DEPTH = 100
# Large enough for a long conversation pasted whole; the page is not a file upload.
MAX_REQUEST_CHARS = 1_000_000
TOO_DEEP = f"The request body is nested too deeply: keep it within {MAX_DEPTH} levels."
TOO_LARGE = (
    "The request body is too large: send at most a million characters; shorten the messages first."
)
_TOOL_CONFIGURATION_FIELDS = ("enabled", "allowed_tools")


@dataclass(frozen=True)
class PathError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class MigrationInvalid(ValueError):
    def __init__(self, errors: list[PathError]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors

    def by_path(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for error in self.errors:
            grouped.setdefault(error.path, []).append(error.message)
        return grouped


@dataclass(frozen=True)
class Migrated:
    request: dict
    changes: list[str]
    headers: dict = field(default_factory=lambda: {"anthropic-beta": BETA})


def _quoted(name: str) -> str:
    return f"“{name}”"


def _names(tools: list[str]) -> str:
    return ", ".join(tools)


def _check_tool_configuration(path: str, value: Any, errors: list[PathError]) -> None:
    if not isinstance(value, dict):
        errors.append(PathError(path, "must be an object with enabled and allowed_tools"))
        return
    for key in value:
        if key not in _TOOL_CONFIGURATION_FIELDS:
            errors.append(
                PathError(
                    f"{path}.{key}",
                    "is not a field of tool_configuration (only enabled and allowed_tools are); "
                    "remove it",
                )
            )
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        errors.append(PathError(f"{path}.enabled", "must be true or false"))
    allowed = value.get("allowed_tools")
    if allowed is None:
        return
    if not isinstance(allowed, list):
        errors.append(PathError(f"{path}.allowed_tools", "must be a list of tool names"))
        return
    for index, tool in enumerate(allowed):
        if not isinstance(tool, str):
            errors.append(PathError(f"{path}.allowed_tools[{index}]", "must be a string"))
        elif not tool.strip():
            errors.append(
                PathError(f"{path}.allowed_tools[{index}]", "must be a tool's name, not empty")
            )


def _check_server(index: int, server: Any, seen: dict[str, int], errors: list[PathError]) -> None:
    path = f"mcp_servers[{index}]"
    if not isinstance(server, dict):
        errors.append(PathError(path, "must be an object with type, url and name"))
        return
    if server.get("type") != "url":
        errors.append(PathError(f"{path}.type", 'must be "url"'))
    url = server.get("url")
    if not isinstance(url, str) or not url.startswith("https://"):
        errors.append(PathError(f"{path}.url", "must be a string starting with https://"))
    name = server.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(PathError(f"{path}.name", "must be a non-empty string"))
    elif name in seen:
        errors.append(
            PathError(
                f"{path}.name",
                f"{_quoted(name)} is already the name of mcp_servers[{seen[name]}]; each server "
                "needs a name of its own",
            )
        )
    else:
        seen[name] = index
    token = server.get("authorization_token")
    if token is not None and not isinstance(token, str):
        errors.append(PathError(f"{path}.authorization_token", "must be a string"))
    if server.get("tool_configuration") is not None:
        _check_tool_configuration(
            f"{path}.tool_configuration", server["tool_configuration"], errors
        )


def _existing_toolsets(tools: Any, names: dict[str, int], errors: list[PathError]) -> dict:
    """{server name: index in tools} of the toolsets the request already has."""
    if tools is None:
        return {}
    if not isinstance(tools, list):
        errors.append(PathError("tools", "must be a list"))
        return {}
    toolsets: dict[str, int] = {}
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "mcp_toolset":
            continue  # another kind of tool: not ours to judge
        server = tool.get("mcp_server_name")
        path = f"tools[{index}].mcp_server_name"
        if not isinstance(server, str) or server not in names:
            errors.append(PathError(path, "must be the name of one of mcp_servers"))
        elif server in toolsets:
            errors.append(
                PathError(
                    path,
                    f"tools[{toolsets[server]}] already names {_quoted(server)}; each server is "
                    "named by exactly one mcp_toolset",
                )
            )
        else:
            toolsets[server] = index
    return toolsets


def _toolset(name: str, configuration: dict | None) -> tuple[dict, str]:
    """The toolset replacing `configuration`, and what it does in words."""
    entry: dict = {"type": "mcp_toolset", "mcp_server_name": name}
    if configuration is None:
        return entry, "every tool enabled (it had no tool_configuration)"
    if configuration.get("enabled", True) is False:
        entry["default_config"] = {"enabled": False}
        ignored = (
            " (its allowed_tools no longer matter)" if "allowed_tools" in configuration else ""
        )
        return entry, f"every tool disabled, as tool_configuration.enabled was false{ignored}"
    allowed = configuration.get("allowed_tools")
    if allowed is None:
        return entry, "every tool enabled"
    tools = list(dict.fromkeys(allowed))
    entry["default_config"] = {"enabled": False}
    if not tools:
        return entry, "every tool disabled, as allowed_tools was empty"
    entry["configs"] = {tool: {"enabled": True} for tool in tools}
    return entry, f"an allowlist: only {_names(tools)} enabled"


def _with_tools_after_servers(request: dict, tools: list) -> dict:
    if "tools" in request:
        return {**request, "tools": tools}
    rebuilt: dict = {}
    for key, value in request.items():
        rebuilt[key] = value
        if key == "mcp_servers":
            rebuilt["tools"] = tools
    return rebuilt


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and lists nest more than `limit` levels; walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def migrate_request(body: Any) -> Migrated:
    """The new form of `body`, with every change in words; MigrationInvalid lists what is wrong."""
    if not isinstance(body, dict):
        raise MigrationInvalid([PathError(ROOT, "The request body must be a JSON object.")])
    if _deeper_than(body, MAX_DEPTH):
        raise MigrationInvalid([PathError(ROOT, TOO_DEEP)])
    errors: list[PathError] = []
    servers = body.get("mcp_servers")
    if not isinstance(servers, list):
        message = (
            "must be a list of servers"
            if "mcp_servers" in body
            else "is missing; paste a request that has mcp_servers"
        )
        raise MigrationInvalid([PathError("mcp_servers", message)])
    names: dict[str, int] = {}
    for index, server in enumerate(servers):
        _check_server(index, server, names, errors)
    toolsets = _existing_toolsets(body.get("tools"), names, errors)
    for name, tool_index in toolsets.items():
        if servers[names[name]].get("tool_configuration") is not None:
            errors.append(
                PathError(
                    f"mcp_servers[{names[name]}].tool_configuration",
                    f"conflicts with tools[{tool_index}], an mcp_toolset for the same server; "
                    "keep one of them",
                )
            )
    betas = body.get("betas")
    if betas is not None and not (
        isinstance(betas, list) and all(isinstance(beta, str) for beta in betas)
    ):
        errors.append(PathError("betas", "must be a list of strings"))
    if errors:
        raise MigrationInvalid(errors)

    request = copy.deepcopy(body)
    tools = list(request.get("tools") or [])
    changes: list[str] = []
    for index, server in enumerate(request["mcp_servers"]):
        name = server["name"]
        if name in toolsets:
            continue
        configuration = server.pop("tool_configuration", None)
        if "tool_configuration" in body["mcp_servers"][index]:
            changes.append(f"mcp_servers[{index}] ({_quoted(name)}): removed tool_configuration.")
        entry, meaning = _toolset(name, configuration)
        tools.append(entry)
        changes.append(
            f"tools[{len(tools) - 1}]: added an mcp_toolset for {_quoted(name)}: {meaning}."
        )
    if tools or "tools" in request:
        request = _with_tools_after_servers(request, tools)
    if isinstance(betas, list) and DEPRECATED_BETA in betas:
        request["betas"] = list(dict.fromkeys(BETA if b == DEPRECATED_BETA else b for b in betas))
        changes.append(f"betas: replaced {DEPRECATED_BETA} with {BETA}.")
    changes.append(
        f"Send the header anthropic-beta: {BETA} instead of {DEPRECATED_BETA} (in the anthropic "
        f'SDK: betas=["{BETA}"]).'
    )
    return Migrated(request=request, changes=changes)


def migrate_text(text: str) -> Migrated:
    """As migrate_request, from the text a person pasted."""
    if len(text) > MAX_REQUEST_CHARS:
        raise MigrationInvalid([PathError(ROOT, TOO_LARGE)])
    try:
        body = json.loads(text)
    except json.JSONDecodeError as invalid:
        raise MigrationInvalid(
            [
                PathError(
                    ROOT,
                    f"This is not valid JSON: {invalid.msg} at line {invalid.lineno}, column "
                    f"{invalid.colno}.",
                )
            ]
        ) from None
    except RecursionError:
        raise MigrationInvalid([PathError(ROOT, TOO_DEEP)]) from None
    return migrate_request(body)
