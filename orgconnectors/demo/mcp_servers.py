"""The demo's MCP servers, built with the official SDK: `python -m orgconnectors.demo.mcp_servers`.

`make run` starts this next to the dashboard (run_dev's `mcp` process), so health checks of the
demo organization show real results offline: an issue tracker over Streamable HTTP (with a
prompt and a resource too, which the health check notes the connector does not use), a wiki
over the legacy HTTP+SSE transport, a billing server whose port nobody listens on, and a task
server behind OAuth with its authorization server (oauth_server.py).
Ports: ORGCONNECTORS_DEMO_MCP_PORT_BASE (default 8701) and the next three, all over https with the
certificate of the demo's authority in --tls-dir (made there the first time; see tls.py).
"""

import argparse
import asyncio
import logging
import os
import socket
import sys
from pathlib import Path

import mcp_types as types
import uvicorn
from mcp.server.mcpserver import MCPServer

from orgconnectors.demo.catalog import (
    DEMO_SERVERS,
    HOST,
    PORT_BASE_VARIABLE,
    TLS_DIRECTORY,
    DemoServer,
)
from orgconnectors.demo.oauth_server import oauth_app
from orgconnectors.demo.tls import DemoTLS, demo_tls

READ_ONLY = types.ToolAnnotations(readOnlyHint=True, openWorldHint=False)
DESTRUCTIVE = types.ToolAnnotations(readOnlyHint=False, destructiveHint=True)

ISSUES = {
    101: "Login page times out on Safari",
    102: "Export to CSV drops the last row",
    103: "Dark mode: unreadable badges",
}
PAGES = {
    "onboarding": "Welcome! Start with the security training, then set up your laptop.",
    "on-call": "The on-call engineer answers pages within 15 minutes, day and night.",
}


def tracker() -> MCPServer:
    server = MCPServer(
        "demo-issue-tracker",
        version="1.4.0",
        instructions="Search and manage the demo team's issues.",
    )

    @server.tool(title="Search issues", annotations=READ_ONLY)
    def search_issues(query: str) -> list[dict]:
        """Find issues whose title contains the query."""
        return [
            {"id": number, "title": title}
            for number, title in ISSUES.items()
            if query.lower() in title.lower()
        ]

    @server.tool(title="Create an issue")
    def create_issue(title: str) -> dict:
        """Open a new issue with this title."""
        number = max(ISSUES) + 1
        ISSUES[number] = title
        return {"id": number, "title": title}

    @server.tool(title="Delete an issue", annotations=DESTRUCTIVE)
    def delete_issue(issue_id: int) -> str:
        """Delete an issue for good."""
        return f"Deleted issue {issue_id}" if ISSUES.pop(issue_id, None) else "No such issue"

    @server.prompt(title="Triage the open issues")
    def triage() -> str:
        return "Sort the open issues by how many customers they affect."

    @server.resource("tracker://issues/open", title="Open issues", mime_type="application/json")
    def open_issues() -> dict:
        return ISSUES

    return server


def wiki() -> MCPServer:
    server = MCPServer("demo-wiki", version="0.9.2")

    @server.tool(title="Search pages", annotations=READ_ONLY)
    def search_pages(query: str) -> list[str]:
        """Names of the pages that mention the query."""
        return [name for name, text in PAGES.items() if query.lower() in text.lower()]

    @server.tool(title="Read a page", annotations=READ_ONLY)
    def read_page(name: str) -> str:
        """The text of one page."""
        return PAGES.get(name, "No such page.")

    @server.tool(title="Update a page", annotations=DESTRUCTIVE)
    def update_page(name: str, text: str) -> str:
        """Replace the text of a page (the old text is lost)."""
        PAGES[name] = text
        return f"Saved {name}."

    return server


def app_for(server: DemoServer):
    if server.serves == "streamable_http":
        return tracker().streamable_http_app()
    if server.serves == "oauth":
        return oauth_app(server.base_url())
    return wiki().sse_app()


def bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it, keep-alive requests wait on delayed ACKs (~40 ms each on loopback).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, port))
    return sock


async def serve(tls: DemoTLS) -> None:
    servers = []
    for demo in DEMO_SERVERS:
        port = demo.port()
        if not demo.serves:
            print(f"{demo.name}: {demo.url()} (nothing listens there: it shows as down)")
            continue
        try:
            sock = bind(port)
        except OSError as error:
            sys.exit(
                f"{demo.name} cannot listen on {HOST}:{port} ({error.strerror}). Stop what uses "
                f"the port, or set {PORT_BASE_VARIABLE} to another first port and run "
                "seed_demo again so the demo's connectors point there."
            )
        # An open SSE stream would otherwise hold up the shutdown indefinitely.
        config = uvicorn.Config(
            app_for(demo),
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
            ssl_certfile=str(tls.cert_file),
            ssl_keyfile=str(tls.key_file),
        )
        servers.append((uvicorn.Server(config), sock))
        print(f"{demo.name}: {demo.url()}")
    # Each server's serve() hands Ctrl-C and SIGTERM on to the one started before it, so
    # one signal stops them all.
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the demo's MCP servers over https.")
    default_var = os.environ.get("ORGCONNECTORS_VAR_DIR") or Path(__file__).parents[2] / "var"
    parser.add_argument(
        "--tls-dir",
        type=Path,
        default=Path(default_var) / TLS_DIRECTORY,
        help="Where the demo's authority and certificate are (made there if missing).",
    )
    arguments = parser.parse_args()
    # The SDK logs every request at INFO, which would drown the dashboard's own output.
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(demo_tls(arguments.tls_dir)))


if __name__ == "__main__":
    main()
