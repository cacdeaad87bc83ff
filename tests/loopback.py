"""Real ASGI peers for tests: an app under uvicorn in a thread on 127.0.0.1, on a free port."""

import asyncio
import socket
import threading
from dataclasses import dataclass

import uvicorn


@dataclass
class LoopbackServer:
    url: str  # http(s)://127.0.0.1:PORT
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it every keep-alive request waits ~40 ms for delayed ACKs, which skews timings.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def serve_asgi(
    make_app,
    *,
    tls: tuple[str, str] | None = None,
    name: str = "test-server",
    date_header: bool = True,
) -> LoopbackServer:
    """Run the app built by `make_app(base_url)` until `.stop()`; `tls` is (certfile, keyfile).
    Without `date_header`, the app's own Date header (a skewed clock) is the only one sent."""
    sock = free_socket()
    port = sock.getsockname()[1]
    base_url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    config = uvicorn.Config(
        make_app(base_url),
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
        date_header=date_header,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )
    server = uvicorn.Server(config)
    started = threading.Event()

    def run():
        async def main():
            task = asyncio.create_task(server.serve(sockets=[sock]))
            # uvicorn offers no "started" callback; its flag flips once the socket listens.
            while not server.started and not task.done():
                await asyncio.sleep(0.005)
            started.set()
            await task

        asyncio.run(main())

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    assert started.wait(10) and server.started, f"the {name} did not start"
    return LoopbackServer(base_url, port, server, thread)


async def read_body(receive) -> bytes:
    """The whole request body, for a test peer that looks at it before the app does."""
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def replaying(body: bytes, receive):
    """A `receive` that hands the app the body already read, then whatever comes next (the
    disconnect the app may wait for)."""
    replayed = False

    async def replay():
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
