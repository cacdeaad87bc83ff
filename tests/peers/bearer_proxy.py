"""A loopback HTTP proxy that adds `Authorization: Bearer <token>` to every request.

The conformance suite's `server --url` sends no credentials of its own; the gateway wants an API
token. This forwards each request to `--target` (same method, path, query, headers and body, the
token added) and streams the answer back as it comes, SSE included. Loopback only.

    OC_PROXY_TOKEN=oc_... python -m tests.peers.bearer_proxy --port 8932 --target http://127.0.0.1:8000

The token comes from the environment, so it stays out of the process list.
"""

import argparse
import contextlib
import os
import sys

import anyio
import httpx
import uvicorn

# Hop-by-hop headers, and the ones the proxy sets itself.
_DROPPED_REQUEST = {b"host", b"authorization", b"content-length", b"connection", b"keep-alive"}
_DROPPED_RESPONSE = {b"content-length", b"transfer-encoding", b"connection", b"keep-alive"}


def bearer_proxy(target: str, token: str):
    """The ASGI app: every request to `target` with the token added."""
    target = target.rstrip("/")
    client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), trust_env=False)
    authorization = f"Bearer {token}".encode("latin-1")

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _DROPPED_REQUEST]
        headers.append((b"authorization", authorization))
        url = target + scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode("latin-1")
        request = client.build_request(
            scope["method"], url, headers=headers, content=b"".join(chunks)
        )
        # When the client goes away, so does the request upstream (an SSE stream it dropped
        # would otherwise stay open there for good).
        async with anyio.create_task_group() as group:

            async def until_disconnected():
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(until_disconnected)
            await forward(request, send)
            group.cancel_scope.cancel()

    async def forward(request, send):
        response = await client.send(request, stream=True)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k, v)
                        for k, v in response.headers.raw
                        if k.lower() not in _DROPPED_RESPONSE
                    ],
                }
            )
            # Raw bytes: any content-encoding goes through untouched, like the headers.
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away mid-answer
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(httpx.HTTPError):
                await response.aclose()

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", required=True, help="e.g. http://127.0.0.1:8000")
    options = parser.parse_args(argv)
    token = os.environ.get("OC_PROXY_TOKEN", "")
    if not token:
        print("Set OC_PROXY_TOKEN to the token to add.", file=sys.stderr)
        return 2
    app = bearer_proxy(options.target, token)
    uvicorn.run(
        app, host="127.0.0.1", port=options.port, log_level="warning", timeout_graceful_shutdown=2
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
