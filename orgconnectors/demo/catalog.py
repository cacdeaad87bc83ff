"""The demo's own MCP servers on this machine: where they are, and how the demo registers them.

Both `seed_demo` (which registers them as connectors) and `mcp_servers.py` (which serves them)
read this, so the two always agree on the ports. They speak https, with a certificate from the
demo's own authority (tls.py). No SDK and no Django here.
"""

from dataclasses import dataclass

from orgconnectors.environment import env_int

PORT_BASE_VARIABLE = "ORGCONNECTORS_DEMO_MCP_PORT_BASE"
DEFAULT_PORT_BASE = 8701
HOST = "127.0.0.1"
# Under the dashboard's var/ directory: the demo's authority and the servers' certificate.
TLS_DIRECTORY = "demo-ca"


@dataclass(frozen=True)
class DemoServer:
    key: str
    name: str  # the connector's name in the demo organization
    offset: int  # its port is the base plus this
    path: str
    serves: str  # "streamable_http", "sse", "oauth", or "" when nothing listens (it is down)
    auth: str = "none"  # the connector's authentication: "none" or "oauth"

    def port(self) -> int:
        return port_base() + self.offset

    def base_url(self) -> str:
        return f"https://{HOST}:{self.port()}"

    def url(self) -> str:
        return self.base_url() + self.path

    def http_url(self) -> str:
        """Where the demo served it before it spoke https: seed_demo moves connectors from it."""
        return f"http://{HOST}:{self.port()}{self.path}"


DEMO_SERVERS = (
    DemoServer("tracker", "Issue tracker (demo)", 0, "/mcp", serves="streamable_http"),
    # Registered with transport "auto": the health check tries Streamable HTTP, falls back to
    # the legacy transport and remembers it.
    DemoServer("wiki", "Team wiki (demo, legacy SSE)", 1, "/sse", serves="sse"),
    # Nothing ever listens on its port: checks are refused, and after 3 it is down.
    DemoServer("billing", "Billing (demo, down)", 2, "/mcp", serves=""),
    # Streamable HTTP behind OAuth, with its own authorization server on the same port
    # (mcp_servers.py's oauth_server): members click Connect and consent there.
    DemoServer("tasks", "Tasks (demo, OAuth)", 3, "/mcp", serves="oauth", auth="oauth"),
)


def port_base() -> int:
    base = env_int(PORT_BASE_VARIABLE, DEFAULT_PORT_BASE)
    if not 1024 <= base <= 65535 - len(DEMO_SERVERS):
        raise ValueError(
            f"{PORT_BASE_VARIABLE}={base} leaves no room for the demo's {len(DEMO_SERVERS)} "
            f"ports; choose a port between 1024 and {65535 - len(DEMO_SERVERS)}."
        )
    return base


def demo_server(key: str) -> DemoServer:
    return next(server for server in DEMO_SERVERS if server.key == key)
