"""One wall-clock deadline per outbound request, against real servers that trickle on loopback.

A trickling server sends a byte every TRICKLE seconds, far more often than any read timeout,
so only a deadline over the whole request ends it. Each server notes whether it got to the
end of what it meant to send: a request cut by the deadline leaves it unfinished.
"""

import asyncio
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orgconnectors.egress.client import build_async_client, build_client, build_mcp_http_client
from orgconnectors.egress.deadline import DeadlineExceeded
from orgconnectors.egress.guard import EgressPolicy
from orgconnectors.health.outcomes import Outcome
from orgconnectors.health.pool import ProbeRunner
from orgconnectors.health.probe import ProbeConfig, ProbeTarget
from orgconnectors.oauth.errors import TokenEndpointError
from orgconnectors.oauth.token_endpoint import ClientAuth, token_request

LOOPBACK = EgressPolicy(allow_loopback=True)
TRICKLE = 0.1  # seconds between bytes
LENGTH = 300  # bytes trickled: 30 s in all, well past every deadline below


class TrickleServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self):
        super().__init__(("127.0.0.1", 0), TrickleHandler)
        self.finished = threading.Event()  # something was sent to its end
        self.stopping = threading.Event()
        self.started = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class TrickleHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _trickle(self, data: bytes) -> None:
        self.server.started.set()
        for byte in data:
            if self.server.stopping.is_set():
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            self.server.stopping.wait(TRICKLE)
        self.server.finished.set()

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if self.path.startswith("/headers"):  # even the status line comes a byte at a time
                head = "HTTP/1.1 200 OK\r\n" + "X-Padding: " + "x" * LENGTH + "\r\n"
                self._trickle(head.encode())
                return
            body = b'{"access_token": "' + b"a" * LENGTH + b'", "token_type": "Bearer"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._trickle(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what the tests want

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle():
    server = TrickleServer()
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


def _sync(url, deadline):
    with build_client(policy=LOOPBACK, deadline=deadline) as client:
        client.get(url)


def _async(url, deadline):
    async def main():
        async with build_async_client(policy=LOOPBACK, deadline=deadline) as client:
            await client.get(url)

    asyncio.run(main())


def _mcp(url, deadline):
    async def main():
        async with build_mcp_http_client(policy=LOOPBACK, deadline=deadline) as client:
            await client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})

    asyncio.run(main())


@pytest.mark.parametrize("path", ["/body", "/headers"])
@pytest.mark.parametrize("read", [_sync, _async, _mcp])
def test_a_trickling_server_is_cut_off_at_the_deadline(trickle, read, path):
    with pytest.raises(DeadlineExceeded, match=r"^no complete answer within 0.5 s$"):
        read(trickle.url + path, 0.5)

    assert trickle.started.is_set() and not trickle.finished.is_set()


def test_the_deadline_comes_from_the_settings(trickle, settings):
    settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS = 0.5

    with pytest.raises(DeadlineExceeded, match="no complete answer within 0.5 s"):
        with build_client() as client:
            client.get(trickle.url + "/body")
    assert not trickle.finished.is_set()


@pytest.fixture
def slow_dns(monkeypatch):
    """A resolver that answers `slow.test` only once released, as a stalled DNS server would."""
    real, release = socket.getaddrinfo, threading.Event()

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "slow.test":
            release.wait(30)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield release
    release.set()


@pytest.mark.parametrize("read", [_sync, _async])
def test_a_dns_lookup_that_never_answers_ends_at_the_deadline(trickle, slow_dns, read):
    url = f"http://slow.test:{trickle.server_address[1]}/body"

    with pytest.raises(DeadlineExceeded, match="no complete answer within 0.5 s"):
        read(url, 0.5)
    assert not slow_dns.is_set()  # still stalled: the request did not wait for it
    assert not trickle.started.is_set()


def test_a_token_request_to_a_trickling_server_ends_at_the_deadline(trickle, settings):
    settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS = 0.5

    with pytest.raises(TokenEndpointError) as raised:
        token_request(
            token_endpoint=trickle.url + "/token",
            client=ClientAuth(client_id="orgconnectors"),
            grant={"grant_type": "refresh_token", "refresh_token": "r"},
        )

    assert raised.value.transient
    assert "no complete answer within 0.5 s" in str(raised.value)
    assert not trickle.finished.is_set()


def test_a_probe_of_a_trickling_server_ends_at_the_deadline_and_frees_its_slot(trickle, settings):
    settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS = 0.5
    runner = ProbeRunner(config=ProbeConfig(timeout=20.0), concurrency=1)
    try:
        first = runner.probe_many([ProbeTarget(trickle.url + "/mcp")])[0]
        # One slot: the second probe runs only once the first gave it back.
        second = runner.probe_many([ProbeTarget(trickle.url + "/headers")])[0]
    finally:
        runner.close()

    assert first.outcome == Outcome.UNREACHABLE
    assert first.error.startswith("no complete answer within 0.5 s")
    assert second.error.startswith("no complete answer within 0.5 s")
    assert not trickle.finished.is_set()
