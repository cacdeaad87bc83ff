"""With loopback allowed (development and tests), http:// still goes only to this machine: a
name is judged by what it resolves to when the connection is made, so http:// to a public
server is refused even when the name looked local when saved."""

import asyncio
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orgconnectors.egress.client import build_async_client, build_client
from orgconnectors.egress.guard import EgressPolicy, EgressRefused, check_url

LOOPBACK = EgressPolicy(allow_loopback=True)


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    server.seen = []
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def dns(monkeypatch):
    """`dns[name]` is a queue of answers, one per lookup; the last one repeats."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        queue = answers[host]
        ip = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_http_to_a_name_resolving_to_loopback_is_sent(server, dns):
    dns["dev.test"] = ["127.0.0.1"]
    with build_client(policy=LOOPBACK) as client:
        assert client.get(f"http://dev.test:{server.server_address[1]}/ok").text == "hello"


def test_http_to_a_name_resolving_to_a_public_address_is_refused_before_connecting(server, dns):
    dns["public.test"] = ["93.184.215.14"]
    with build_client(policy=LOOPBACK) as client:
        with pytest.raises(
            EgressRefused,
            match=r"^http:// is allowed only for loopback hosts; use https:// "
            r"\(public.test resolves to 93.184.215.14\)$",
        ):
            client.get(f"http://public.test:{server.server_address[1]}/ok")


def test_the_async_client_refuses_http_to_a_name_that_rebinds_to_a_public_address(server, dns):
    # Saved while it resolved to loopback; by the time of the request it no longer does.
    dns["dev.test"] = ["127.0.0.1", "93.184.215.14"]
    url = f"http://dev.test:{server.server_address[1]}/ok"

    async def main():
        async with build_async_client(policy=LOOPBACK) as client:
            await client.get(url)

    socket.getaddrinfo("dev.test", 80)  # the lookup at save time
    with pytest.raises(EgressRefused, match=r"\(dev.test resolves to 93.184.215.14\)$"):
        asyncio.run(main())
    assert server.seen == []


def test_http_to_a_public_ip_literal_is_refused_by_the_static_check():
    with pytest.raises(EgressRefused, match="http:// is allowed only for loopback hosts"):
        check_url("http://93.184.215.14/mcp", policy=LOOPBACK)
    check_url("http://127.0.0.1:8000/mcp", policy=LOOPBACK)
    check_url("http://[::1]:8000/mcp", policy=LOOPBACK)
