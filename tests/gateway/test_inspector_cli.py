"""The MCP Inspector CLI (npm `@modelcontextprotocol/inspector-cli`) through the gateway, as a
person would run it against any remote server: the approved tools are listed, an allowed tool is
called, a blocked one is refused.

The CLI comes from npm through tests/peers/node_tools.py (skipped off CI without npm)."""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from orgconnectors.audit.models import UsageEvent
from orgconnectors.gateway.usage_buffer import usage_flush
from tests.gateway.conftest import endpoint_for
from tests.peers.node_tools import NODE_MODULES, node_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RUN_SECONDS = 60


@dataclass(frozen=True)
class InspectorCli:
    node: Path
    script: Path

    def run(self, url: str, secret: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ)
        # The CLI's launcher starts its client with the `node` on PATH: Node 22's, here.
        env["PATH"] = f"{self.node.parent}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            [str(self.node), str(self.script), "--cli", url, "--transport", "http"]
            + ["--header", f"Authorization: Bearer {secret}", *args],
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            env=env,
            # 1.0.3 looks for its package.json at "../package.json" from the working directory
            # but imports it relative to its own file: only its build/ folder satisfies both.
            cwd=self.script.parent,
        )


@pytest.fixture(scope="session")
def inspector_cli() -> InspectorCli:
    script = NODE_MODULES / "@modelcontextprotocol/inspector-cli/build/cli.js"
    node = node_for("The MCP Inspector CLI", script)
    return InspectorCli(node, script)


def _tool_calls():
    usage_flush()
    return list(UsageEvent.objects.filter(kind=UsageEvent.Kind.TOOL_CALL).order_by("pk"))


def test_the_inspector_cli_lists_the_approved_tools(inspector_cli, member, gateway, upstreams):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    done = inspector_cli.run(point.url, point.secret, "--method", "tools/list")

    assert done.returncode == 0, done.stderr
    tools = json.loads(done.stdout)["tools"]
    # The approved definitions, without delete_issue (blocked) and export_all (held).
    assert sorted(t["name"] for t in tools) == ["fails", "search", "slow"]
    [search] = [t for t in tools if t["name"] == "search"]
    assert search["title"] == "Search issues"
    assert search["inputSchema"]["required"] == ["query"]


@pytest.mark.parametrize("transport", ["streamable_http", "sse"])
def test_the_inspector_cli_calls_an_allowed_tool(
    inspector_cli, member, gateway, upstreams, transport
):
    point = endpoint_for(member, gateway, upstreams.url(transport), transport)

    done = inspector_cli.run(
        point.url,
        point.secret,
        *("--method", "tools/call", "--tool-name", "search", "--tool-arg", "query=login bug"),
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result.get("isError") is not True
    assert result["content"] == [{"type": "text", "text": "found: login bug"}]
    [row] = _tool_calls()
    assert (row.details["tool"], row.details["outcome"]) == ("search", "ok")
    assert row.user_id == member.user_id


@pytest.mark.parametrize(
    ("tool", "why"),
    [
        ("delete_issue", "blocked by your organization"),
        ("export_all", "is new and held until an owner"),
    ],
)
def test_the_inspector_cli_is_refused_a_tool_not_handed_out(
    inspector_cli, member, gateway, upstreams, tool, why
):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    done = inspector_cli.run(point.url, point.secret, "--method", "tools/call", "--tool-name", tool)

    assert done.returncode != 0, done.stdout
    assert why in done.stderr + done.stdout
    [row] = _tool_calls()
    assert (row.details["tool"], row.details["outcome"]) == (tool, "denied")


def test_the_inspector_cli_without_a_token_is_turned_away(
    inspector_cli, member, gateway, upstreams
):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    done = inspector_cli.run(point.url, "not-a-token", "--method", "tools/list")

    assert done.returncode != 0, done.stdout
    assert "search" not in done.stdout
    assert _tool_calls() == []
