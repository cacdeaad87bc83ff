"""Real peers on 127.0.0.1 for the health checks: SDK MCP servers and misbehaving HTTP servers.

Each app runs under uvicorn in a thread, on a port the OS picks, for the whole session. Every
app sits behind a request log, so tests can see what a probe actually sent.
"""

import asyncio
import datetime
import json
import socket
import threading
from dataclasses import dataclass, field

import mcp_types as types
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from mcp import MCPError
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from orgconnectors.health.pool import ProbeRunner
from orgconnectors.health.probe import ProbeConfig
from tests.loopback import free_socket, read_body, replaying, serve_asgi

# Lets a test give the servers a host name (resolved by the test's own resolver).
OPEN_HOSTS = TransportSecuritySettings(enable_dns_rebinding_protection=False)
PAGE_SIZE = 100
PAGED_TOOLS = 250
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass
class RequestLog:
    """What reached one server: (method, path, query, JSON-RPC method or None)."""

    entries: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)  # of the answers, in order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.content_types.clear()

    def rpc_methods(self) -> list[str]:
        with self.lock:
            return [e[3] for e in self.entries if e[3]]


def logged(app, log: RequestLog):
    """ASGI middleware that writes down each request (and the JSON-RPC method of a POST)."""

    async def middleware(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        body = await read_body(receive)
        rpc = None
        if scope["method"] == "POST" and body:
            try:
                rpc = json.loads(body).get("method")
            except (ValueError, AttributeError):
                rpc = None
        with log.lock:
            log.entries.append(
                (scope["method"], scope["path"], scope["query_string"].decode(), rpc)
            )
        replay = replaying(body, receive)

        async def noting_send(message):
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                content_type = headers.get(b"content-type", b"").decode().partition(";")[0]
                with log.lock:
                    log.content_types.append(content_type)
            await send(message)

        return await app(scope, replay, noting_send)

    return middleware


@dataclass
class Served:
    url: str  # http://127.0.0.1:PORT
    port: int
    log: RequestLog
    server: uvicorn.Server
    thread: threading.Thread


def serve(make_app, *, tls: tuple[str, str] | None = None) -> Served:
    """Run the app built by `make_app(base_url)` under uvicorn on 127.0.0.1 until stopped."""
    log = RequestLog()
    served = serve_asgi(lambda base: logged(make_app(base), log), tls=tls, name="MCP test server")
    return Served(served.url, served.port, log, served.server, served.thread)


def stop(served: Served) -> None:
    served.server.should_exit = True
    served.thread.join(timeout=5)


# --- MCP servers built with the SDK -------------------------------------------------------


def mcp_server(name: str = "demo") -> MCPServer:
    server = MCPServer(name, version="1.2.3")

    @server.tool(
        title="Search issues",
        annotations=types.ToolAnnotations(readOnlyHint=True, openWorldHint=False),
    )
    def search(query: str) -> str:
        """Search the issue tracker."""
        return query

    @server.tool(annotations=types.ToolAnnotations(destructiveHint=True))
    def delete_issue(issue_id: int) -> str:
        """Delete an issue for good."""
        return str(issue_id)

    @server.prompt()
    def triage() -> str:
        return "Triage the open issues."

    return server


def paged_server() -> Server:
    names = [f"tool_{i:03d}" for i in range(PAGED_TOOLS)]

    async def list_tools(ctx, params):
        start = int(params.cursor) if params and params.cursor else 0
        page = names[start : start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(names)
        return types.ListToolsResult(
            tools=[types.Tool(name=n, input_schema={"type": "object"}) for n in page],
            next_cursor=str(start + PAGE_SIZE) if more else None,
        )

    return Server("paged", version="2.0", on_list_tools=list_tools)


def broken_tools_server() -> Server:
    async def list_tools(ctx, params):
        raise MCPError(types.INTERNAL_ERROR, "the tool registry is offline")

    return Server("broken-tools", on_list_tools=list_tools)


def hanging_tools_server() -> Server:
    async def list_tools(ctx, params):
        await asyncio.Event().wait()  # the handshake works; the tool list never comes

    return Server("hanging-tools", on_list_tools=list_tools)


def no_tools_server() -> Server:
    async def list_prompts(ctx, params):
        return types.ListPromptsResult(prompts=[])

    return Server("prompts-only", on_list_prompts=list_prompts)


def handshake_only_server() -> MCPServer:
    """A server of the initialize era: it does not know server/discover."""
    server = mcp_server("handshake-only")

    async def no_discover(ctx, params):
        raise MCPError(types.METHOD_NOT_FOUND, "Method not found")

    server._lowlevel_server.add_request_handler("server/discover", types.RequestParams, no_discover)
    return server


class AcceptNothing:
    async def verify_token(self, token: str) -> AccessToken | None:
        return None


def protected_app(base_url: str):
    server = MCPServer(
        "protected",
        token_verifier=AcceptNothing(),
        auth=AuthSettings(
            issuer_url="https://auth.example.com",
            resource_server_url=f"{base_url}/mcp",
            required_scopes=["issues:read"],
            validate_token_resource=True,
        ),
    )
    return server.streamable_http_app()


# --- Servers that are not MCP, or not well ------------------------------------------------

BIG = b'{"jsonrpc": "2.0", "id": 1, "result": {"padding": "' + b"x" * (4 * MAX_RESPONSE_BYTES)


def fault_app(base_url: str):
    async def html(request):
        return HTMLResponse("<!doctype html><title>Welcome</title><p>Our product</p>")

    async def error_500(request):
        return PlainTextResponse("Internal Server Error", status_code=500)

    async def malformed(request):
        return Response(b'{"jsonrpc": "2.0", "id": ', media_type="application/json")

    async def redirect(request):
        return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=307)

    async def big(request):
        return Response(BIG, media_type="application/json")

    async def big_stream(request):  # no Content-Length: the cap must count as it reads
        async def body():
            for _ in range(8):
                yield BIG[:MAX_RESPONSE_BYTES]

        return StreamingResponse(body(), media_type="application/json")

    async def hang(request):
        await asyncio.Event().wait()  # never set: answers nothing, ever

    async def unauthorized_bare(request):
        return PlainTextResponse(
            "Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    any_method = ["GET", "POST", "DELETE"]
    routes = [
        ("/html", html),
        ("/500", error_500),
        ("/malformed", malformed),
        ("/redirect", redirect),
        ("/big", big),
        ("/big-stream", big_stream),
        ("/hang", hang),
        ("/unauthorized", unauthorized_bare),
    ]
    return Starlette(routes=[Route(path, fn, methods=any_method) for path, fn in routes])


def self_signed(tmp_dir) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_dir / "cert.pem", tmp_dir / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@dataclass
class Peers:
    streamable: Served  # stateful, answers over SSE
    streamable_json: Served  # stateful, answers in JSON
    stateless: Served
    stateless_json: Served
    legacy_sse: Served
    handshake_only: Served  # stateful, answers over SSE
    handshake_only_json: Served
    handshake_only_stateless: Served
    paged: Served
    broken_tools: Served
    hanging_tools: Served
    no_tools: Served
    protected: Served
    faults: Served
    tls: Served
    refused_url: str  # nothing listens there

    def all(self) -> list[Served]:
        return [v for v in vars(self).values() if isinstance(v, Served)]


@pytest.fixture(scope="session")
def peers(tmp_path_factory) -> Peers:
    sdk = lambda build: lambda base: build()  # noqa: E731 - apps that do not need their URL
    closed = free_socket()  # bound, never listening: connecting is refused
    refused_port = closed.getsockname()[1]
    closed.close()
    started = Peers(
        streamable=serve(
            sdk(lambda: mcp_server().streamable_http_app(transport_security=OPEN_HOSTS))
        ),
        streamable_json=serve(sdk(lambda: mcp_server().streamable_http_app(json_response=True))),
        stateless=serve(sdk(lambda: mcp_server().streamable_http_app(stateless_http=True))),
        stateless_json=serve(
            sdk(
                lambda: mcp_server().streamable_http_app(
                    stateless_http=True, json_response=True, transport_security=OPEN_HOSTS
                )
            )
        ),
        legacy_sse=serve(sdk(lambda: mcp_server().sse_app())),
        handshake_only=serve(sdk(lambda: handshake_only_server().streamable_http_app())),
        handshake_only_json=serve(
            sdk(lambda: handshake_only_server().streamable_http_app(json_response=True))
        ),
        handshake_only_stateless=serve(
            sdk(lambda: handshake_only_server().streamable_http_app(stateless_http=True))
        ),
        paged=serve(sdk(lambda: paged_server().streamable_http_app(json_response=True))),
        broken_tools=serve(sdk(lambda: broken_tools_server().streamable_http_app())),
        hanging_tools=serve(sdk(lambda: hanging_tools_server().streamable_http_app())),
        no_tools=serve(sdk(lambda: no_tools_server().streamable_http_app())),
        protected=serve(protected_app),
        faults=serve(fault_app),
        tls=serve(
            sdk(lambda: mcp_server().streamable_http_app()),
            tls=self_signed(tmp_path_factory.mktemp("tls")),
        ),
        refused_url=f"http://127.0.0.1:{refused_port}/mcp",
    )
    yield started
    for served in started.all():
        stop(served)


@pytest.fixture(autouse=True)
def _clear_logs(request):
    if "peers" in request.fixturenames:
        for served in request.getfixturevalue("peers").all():
            served.log.clear()


TEST_CONFIG = ProbeConfig(timeout=3.0, slow_ms=2000)


@pytest.fixture(scope="session")
def runner():
    """One runner (one loop, one pooled client) for the session, as a worker process has."""
    probe_runner = ProbeRunner(
        config=TEST_CONFIG, concurrency=20, max_response_bytes=MAX_RESPONSE_BYTES
    )
    yield probe_runner
    probe_runner.close()


@pytest.fixture
def resolver(monkeypatch):
    """Answer chosen host names with chosen addresses (None: no such name); others as usual."""
    answers: dict[str, str | None] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers and answers[host] is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def process_runner(runner, monkeypatch):
    """Make `runner` the process's runner, which tasks pick up through get_runner()."""
    import os

    from orgconnectors.health import pool

    monkeypatch.setattr(pool, "_runner", runner)
    monkeypatch.setattr(pool, "_runner_pid", os.getpid())
    return runner
