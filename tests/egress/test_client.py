"""The guarded clients against a real server on 127.0.0.1, with DNS answered by a stand-in.

The stand-in answers each name from a queue, so a second lookup would get a different
address: a request that worked proves it went to the address that was checked.
"""

import asyncio
import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from orgconnectors.egress import client as client_module
from orgconnectors.egress import pinning as pinning_module
from orgconnectors.egress import transport as transport_module
from orgconnectors.egress.client import build_async_client, build_client, build_mcp_http_client
from orgconnectors.egress.guard import EgressError, EgressPolicy, EgressRefused
from orgconnectors.egress.redirects import afollow_redirects_safely, follow_redirects_safely
from orgconnectors.egress.streams import ResponseTooLarge

LOOPBACK = EgressPolicy(allow_loopback=True)
BODY = b"x" * 5000


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append((self.path, self.headers["Host"]))
        port = self.server.server_address[1]
        redirects = {
            "/same": "/ok",
            "/other": f"http://other.test:{port}/ok",
            "/private": "http://10.0.0.1/",
            "/loop": "/loop",
        }
        if self.path in redirects:
            self.send_response(302)
            self.send_header("Location", redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/big-unannounced":  # no length: the body ends when the connection does
            self.send_response(200)
            self.end_headers()
            self.wfile.write(BODY)
        else:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


def serve(ssl_context=None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.seen = []
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    # A short poll interval only makes shutdown() return sooner.
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    return server


@pytest.fixture
def server():
    server = serve()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def dns(monkeypatch):
    """`answers[name]` is a queue of addresses, one per lookup; the last one repeats."""
    real = socket.getaddrinfo
    answers: dict[str, list[str]] = {}
    calls: list[str] = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)  # only the numeric 127.0.0.1 gets here
        calls.append(host)
        queue = answers[host]
        ip = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return answers, calls


def url(server, path, host="pinned.test", scheme="http"):
    return f"{scheme}://{host}:{server.server_address[1]}{path}"


def test_a_request_to_a_name_goes_to_the_address_that_was_checked(server, dns):
    answers, calls = dns
    answers["pinned.test"] = ["127.0.0.1", "10.9.9.9"]
    with build_client(policy=LOOPBACK) as client:
        response = client.get(url(server, "/ok"))
    assert response.text == "hello"
    assert calls == ["pinned.test"]
    assert server.seen == [("/ok", f"pinned.test:{server.server_address[1]}")]


def test_a_new_connection_looks_the_name_up_again_and_is_refused_when_it_rebinds(server, dns):
    answers, calls = dns
    answers["pinned.test"] = ["127.0.0.1", "10.9.9.9"]
    with build_client(policy=LOOPBACK) as client:
        client.get(url(server, "/ok"))  # the server closes the connection after each answer
        with pytest.raises(EgressRefused, match=r"^pinned.test resolves to 10.9.9.9, a private"):
            client.get(url(server, "/ok"))
    assert calls == ["pinned.test", "pinned.test"]
    assert len(server.seen) == 1


def test_the_async_client_pins_the_checked_address_too(server, dns):
    answers, calls = dns
    answers["pinned.test"] = ["127.0.0.1", "10.9.9.9"]

    async def main():
        async with build_async_client(policy=LOOPBACK) as client:
            first = await client.get(url(server, "/ok"))
            with pytest.raises(EgressRefused, match="10.9.9.9, a private address"):
                await client.get(url(server, "/ok"))
            return first

    assert asyncio.run(main()).text == "hello"
    assert calls == ["pinned.test", "pinned.test"]


def test_the_mcp_client_is_an_httpx2_client_behind_the_same_guard(server, dns):
    answers, calls = dns
    answers["pinned.test"] = ["127.0.0.1", "10.9.9.9"]

    async def main():
        async with build_mcp_http_client(policy=LOOPBACK) as client:
            assert isinstance(client, httpx2.AsyncClient)
            first = await client.get(url(server, "/ok"))
            with pytest.raises(EgressRefused, match="10.9.9.9"):
                await client.get(url(server, "/ok"))
            return first

    assert asyncio.run(main()).text == "hello"
    assert calls == ["pinned.test", "pinned.test"]


def test_it_refuses_a_host_resolving_to_a_private_address_before_connecting(server, dns):
    answers, _ = dns
    answers["evil.test"] = ["10.0.0.5"]
    with build_client(policy=LOOPBACK) as client:
        with pytest.raises(
            EgressRefused, match="evil.test resolves to 10.0.0.5, a private address"
        ):
            client.get("https://evil.test/")


def test_it_checks_the_url_of_every_request_with_the_settings_in_force(server, dns, monkeypatch):
    _, calls = dns
    for module in (transport_module, pinning_module):
        monkeypatch.setattr(module, "current_policy", lambda: EgressPolicy())
    with build_client() as client:
        with pytest.raises(EgressRefused, match="http:// is not allowed; use https://"):
            client.get(url(server, "/ok"))
        with pytest.raises(EgressRefused, match="the host '127.0.0.1' is a loopback address"):
            client.send(httpx.Request("GET", url(server, "/ok", host="127.0.0.1", scheme="https")))
    assert calls == []
    assert server.seen == []


def test_it_refuses_options_that_would_go_around_the_guard():
    with pytest.raises(TypeError, match="transport would bypass the egress guard"):
        build_client(transport=httpx.HTTPTransport())
    with pytest.raises(TypeError, match="mounts, proxy would bypass"):
        build_async_client(proxy="http://proxy.example.com", mounts={})


def test_redirects_are_not_followed_unless_asked(server, dns):
    dns[0]["pinned.test"] = ["127.0.0.1"]
    with build_client(policy=LOOPBACK) as client:
        assert client.get(url(server, "/same")).status_code == 302


def test_a_redirect_within_the_origin_is_followed(server, dns):
    dns[0]["pinned.test"] = ["127.0.0.1"]
    with build_client(policy=LOOPBACK) as client:
        response = follow_redirects_safely(
            client, client.build_request("GET", url(server, "/same"))
        )
    assert response.status_code == 200
    assert [path for path, _ in server.seen] == ["/same", "/ok"]


def test_a_redirect_to_another_origin_is_not_followed(server, dns):
    answers, calls = dns
    answers["pinned.test"] = ["127.0.0.1"]
    answers["other.test"] = ["127.0.0.1"]

    async def main():
        async with build_async_client(policy=LOOPBACK) as client:
            request = client.build_request("GET", url(server, "/other"))
            return await afollow_redirects_safely(client, request)

    response = asyncio.run(main())
    assert response.status_code == 302
    assert response.next_request.url.host == "other.test"
    assert calls == ["pinned.test"]
    assert [path for path, _ in server.seen] == ["/other"]


def test_a_redirect_to_a_private_address_is_refused_even_when_following_is_turned_on(server, dns):
    dns[0]["pinned.test"] = ["127.0.0.1"]
    with build_client(policy=LOOPBACK) as client:
        with pytest.raises(EgressRefused, match="the host '10.0.0.1' is a private address"):
            client.get(url(server, "/private"), follow_redirects=True)


def test_a_redirect_loop_stops_after_the_allowed_number_of_hops(server, dns):
    dns[0]["pinned.test"] = ["127.0.0.1"]
    with build_client(policy=LOOPBACK) as client:
        with pytest.raises(EgressError, match="more than 3 redirects"):
            follow_redirects_safely(
                client, client.build_request("GET", url(server, "/loop")), max_hops=3
            )
    assert len(server.seen) == 4


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_a_response_larger_than_the_cap_is_refused(server, dns, path):
    dns[0]["pinned.test"] = ["127.0.0.1"]
    with build_client(policy=LOOPBACK, max_response_bytes=4 * 1024) as client:
        with pytest.raises(ResponseTooLarge, match=r"^answer larger than 4 KiB$"):
            client.get(url(server, path))
        assert client.get(url(server, "/ok")).text == "hello"


def test_the_async_client_caps_a_streamed_response(server, dns):
    dns[0]["pinned.test"] = ["127.0.0.1"]

    async def main():
        async with build_async_client(policy=LOOPBACK, max_response_bytes=4096) as client:
            async with client.stream("GET", url(server, "/big-unannounced")) as response:
                async for _ in response.aiter_bytes():
                    pass

    with pytest.raises(ResponseTooLarge, match="answer larger than 4 KiB"):
        asyncio.run(main())


def test_the_default_cap_is_five_mebibytes_and_the_default_timeouts_are_short(monkeypatch):
    monkeypatch.setattr(client_module, "read_setting", lambda name, default=None: default)
    monkeypatch.setattr(transport_module, "read_setting", lambda name, default=None: default)
    transport = build_client()._transport
    assert transport._max_response_bytes == 5 * 1024 * 1024
    timeout = build_client().timeout
    assert (timeout.connect, timeout.read) == (5.0, 10.0)
    assert build_client(timeout=httpx.Timeout(1.0)).timeout.read == 1.0


def make_certificate(tmp_path, name):
    """A CA, and a certificate for `name` signed by it; returns (ca path, cert path, key path)."""
    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, public_key, signing_key, ca, extra=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        for extension in extra:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("Test CA", "Test CA", ca_key.public_key(), ca_key, True)
    leaf = build(
        name,
        "Test CA",
        key.public_key(),
        ca_key,
        False,
        [x509.SubjectAlternativeName([x509.DNSName(name)])],
    )
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def test_tls_sends_the_name_and_verifies_the_certificate_against_it(tmp_path, dns):
    ca_path, cert_path, key_path = make_certificate(tmp_path, "pinned.test")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    sni = []
    server_context.sni_callback = lambda sock, name, context: sni.append(name)
    server = serve(server_context)
    answers, calls = dns
    answers["pinned.test"] = ["127.0.0.1"]
    answers["impostor.test"] = ["127.0.0.1"]
    trust = ssl.create_default_context(cafile=str(ca_path))
    try:
        with build_client(policy=LOOPBACK, verify=trust) as client:
            assert client.get(url(server, "/ok", scheme="https")).text == "hello"
            with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
                client.get(url(server, "/ok", host="impostor.test", scheme="https"))
    finally:
        server.shutdown()
        server.server_close()
    assert sni[:2] == ["pinned.test", "impostor.test"]
    assert calls == ["pinned.test", "impostor.test"]
