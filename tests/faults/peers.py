"""Loopback peers the fault tests hold, break or skew: an MCP server and a token endpoint."""

import itertools
import threading

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.health.conftest import OPEN_HOSTS, mcp_server
from tests.loopback import LoopbackServer, serve_asgi


class Gate:
    """Holds every request of a peer until the test opens it.

    `arrived` is set when the first request is held, so the test can act (kill the worker that
    sent it) while the request is in flight.
    """

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.released = threading.Event()

    def open(self) -> None:
        self.released.set()

    async def wait(self) -> None:
        if self.released.is_set():
            return
        self.arrived.set()
        # Bounded, so a test that fails before opening it does not leave the peer hanging.
        with anyio.move_on_after(120):
            while not self.released.is_set():
                await anyio.sleep(0.02)


def gated(app, gate: Gate):
    async def middleware(scope, receive, send):
        if scope["type"] == "http":
            await gate.wait()
        await app(scope, receive, send)

    return middleware


def gated_mcp_server(gate: Gate) -> LoopbackServer:
    """The SDK's MCP server (stateless, JSON answers) behind a gate; its endpoint is /mcp."""
    return serve_asgi(
        lambda base: gated(
            mcp_server().streamable_http_app(
                stateless_http=True, json_response=True, transport_security=OPEN_HOSTS
            ),
            gate,
        ),
        name="gated MCP server",
    )


class TokenEndpoint:
    """A token endpoint that grants every refresh with a new token pair, behind a gate.

    `answered` lists the refresh tokens it was sent and answered, in order.
    """

    def __init__(self, gate: Gate | None = None, expires_in: int = 3600) -> None:
        self.gate = gate
        self.expires_in = expires_in
        self.answered: list[str] = []
        self._numbers = itertools.count(1)

    async def token(self, request: Request) -> JSONResponse:
        form = await request.form()
        if self.gate is not None:
            await self.gate.wait()
        number = next(self._numbers)
        self.answered.append(str(form.get("refresh_token")))
        return JSONResponse(
            {
                "access_token": f"access-{number}",
                "refresh_token": f"refresh-{number}",
                "token_type": "Bearer",
                "expires_in": self.expires_in,
            },
            headers={"Cache-Control": "no-store"},
        )

    def serve(self) -> LoopbackServer:
        return serve_asgi(
            lambda base: Starlette(routes=[Route("/token", self.token, methods=["POST"])]),
            name="token endpoint",
        )
