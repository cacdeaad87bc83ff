"""Compressed answers are capped by what they decode to, not by what crossed the wire.

Real bombs (100 MiB of zeros in gzip, deflate and brotli, a few hundred KiB each on the wire)
served by a real HTTP server on 127.0.0.1, read through every kind of guarded client and
through a health check of a connector at that URL. Memory is measured with tracemalloc: a
reader that decoded the whole bomb would peak near 100 MiB.
"""

import asyncio
import threading
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest

from orgconnectors.egress.client import build_async_client, build_client, build_mcp_http_client
from orgconnectors.egress.guard import EgressPolicy
from orgconnectors.egress.streams import ResponseTooLarge
from orgconnectors.health.models import HealthCheck
from orgconnectors.health.pool import ProbeRunner, config_from_settings
from orgconnectors.health.services import health_sweep
from tests.factories import ConnectorFactory

MIB = 1024 * 1024
DECODED_MIB = 100
CAP = 5 * MIB  # the default cap, which the health check's runner uses
LOOPBACK = EgressPolicy(allow_loopback=True)
ENCODINGS = ["gzip", "deflate", "br"]


def _bomb(process, finish) -> bytes:
    zeros = bytes(MIB)
    return b"".join([*(process(zeros) for _ in range(DECODED_MIB)), finish()])


def _zlib_bomb(wbits: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return _bomb(compressor.compress, compressor.flush)


@pytest.fixture(scope="module")
def bomb_server():
    brotli_compressor = brotli.Compressor(quality=5)
    bombs = {
        "gzip": _zlib_bomb(zlib.MAX_WBITS | 16),
        "deflate": _zlib_bomb(zlib.MAX_WBITS),
        "br": _bomb(brotli_compressor.process, brotli_compressor.finish),
    }
    assert all(len(body) < MIB for body in bombs.values())  # small on the wire, under any cap

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            encoding = self.path.rsplit("/", 1)[-1]
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            body = bombs[encoding]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def peak_bytes_while(call):
    """Run `call` and return (what it raised, the peak of memory allocated meanwhile)."""
    tracemalloc.start()
    try:
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - the caller asserts on what was raised
            raised = exc
        else:
            raised = None
        return raised, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def read_sync(url):
    with build_client(policy=LOOPBACK) as client:
        client.get(url)


def read_async(url):
    async def main():
        async with build_async_client(policy=LOOPBACK) as client:
            await client.get(url)

    asyncio.run(main())


def read_mcp_client(url):
    async def main():
        async with build_mcp_http_client(policy=LOOPBACK) as client:
            await client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize"})

    asyncio.run(main())


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("read", [read_sync, read_async, read_mcp_client])
def test_a_compression_bomb_ends_at_the_cap_on_decoded_bytes_with_flat_memory(
    bomb_server, encoding, read
):
    raised, peak = peak_bytes_while(lambda: read(f"{bomb_server}/mcp/{encoding}"))

    assert isinstance(raised, ResponseTooLarge), raised
    assert str(raised) == "answer larger than 5 MiB"
    assert peak < 3 * CAP, f"peak {peak / MIB:.1f} MiB"


def test_a_compressed_answer_within_the_cap_is_decoded_once(bomb_server):
    # 100 MiB does not fit; a cap above it lets the same body through, decoded exactly once.
    with build_client(policy=LOOPBACK, max_response_bytes=(DECODED_MIB + 1) * MIB) as client:
        response = client.get(f"{bomb_server}/mcp/gzip")
    assert len(response.content) == DECODED_MIB * MIB
    assert "content-encoding" not in response.headers


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_health_check_of_a_bomb_says_the_answer_is_too_large_with_flat_memory(
    bomb_server, encoding
):
    connector = ConnectorFactory(url=f"{bomb_server}/mcp/{encoding}")
    runner = ProbeRunner(config=config_from_settings(), concurrency=2)  # as a worker builds it
    try:
        raised, peak = peak_bytes_while(lambda: health_sweep(runner=runner))
    finally:
        runner.close()

    assert raised is None
    check = HealthCheck.objects.get(connector=connector)
    assert check.outcome == "misconfigured"
    assert check.error == "answer larger than 5 MiB"
    assert peak < 3 * CAP, f"peak {peak / MIB:.1f} MiB"
