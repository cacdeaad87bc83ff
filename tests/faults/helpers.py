"""Helpers of the fault tests: data set up on the stack, loopback peers held at will."""

import json
import threading

import httpx

from tests.servers import Stack


def seed(stack: Stack, function: str, **kwargs) -> dict:
    """Call tests/faults/seed.py's `function` in a Django process on the stack."""
    code = f"from tests.faults import seed; seed.{function}(**{kwargs!r})"
    return json.loads(stack.run_python(code).strip().splitlines()[-1])


class Gate:
    """Holds requests of a loopback peer until the test lets them through.

    `arrived` is set when the first request is held; `open()` lets it and every later one go.
    """

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.held = 0

    def open(self) -> None:
        self.released.set()

    async def wait(self) -> None:
        import anyio

        if self.released.is_set():
            return
        self.held += 1
        self.arrived.set()
        # Bounded: a test that forgets to open it does not leave the peer hanging forever.
        with anyio.move_on_after(120):
            while not self.released.is_set():
                await anyio.sleep(0.02)


def api_get(client: httpx.Client, url: str, token: str) -> httpx.Response:
    return client.get(url, headers={"Authorization": f"Bearer {token}"})
