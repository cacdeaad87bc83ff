"""Real MCP peers for the journeys, on loopback in this process: the demo's issue tracker (the
SDK's Streamable HTTP server) and the demo's task server behind its OAuth authorization server
(the SDK's auth routes with the consent page a person clicks through)."""

import threading
from collections.abc import Iterator

import pytest

from orgconnectors.demo.mcp_servers import tracker
from orgconnectors.demo.oauth_server import DemoProvider, oauth_app
from tests.loopback import serve_asgi


@pytest.fixture
def issue_tracker() -> Iterator[str]:
    """The base URL of a running MCP server (its endpoint is at /mcp)."""
    served = serve_asgi(lambda _base: tracker().streamable_http_app(), name="issue tracker")
    yield served.url
    served.stop()


class WatchedProvider(DemoProvider):
    """The demo's provider, telling the test when a revocation (sent by the worker) leaves it
    with no token that works."""

    def __init__(self) -> None:
        super().__init__()
        self.all_revoked = threading.Event()

    async def revoke_token(self, token) -> None:
        await super().revoke_token(token)
        if not self.access and not self.refresh:
            self.all_revoked.set()


@pytest.fixture
def task_server() -> Iterator[tuple[str, WatchedProvider]]:
    """(base URL, provider) of the OAuth-protected task server and its authorization server."""
    provider = WatchedProvider()
    served = serve_asgi(lambda base: oauth_app(base, provider), name="task server")
    yield served.url, provider
    served.stop()
