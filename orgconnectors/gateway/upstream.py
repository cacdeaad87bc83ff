"""The gateway's side toward connectors' servers: one pooled HTTP client per event loop behind
the egress guard, and one open SDK client session per member, connector and token, reused by
every call of that member (concurrently: one session carries many requests at once).

A call never pays for a new HTTP client, CA bundle or handshake once its session is open. A
session is opened over the transport the health check found (Streamable HTTP or legacy SSE),
with the member's token added to the server's own origin only (its own client on the pool's
transport: egress.share_async_client). It closes after IDLE_SECONDS unused, when the member's
token changes (a new session is opened with the new one), or when a call fails in a way that
may have broken it.
"""

import asyncio
import hashlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable

import httpx2
import mcp_types as types
from django.conf import settings
from mcp import Client, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from orgconnectors.egress import build_async_client, share_async_client
from orgconnectors.egress.borrowed import Borrowed

logger = logging.getLogger(__name__)

SSE = "sse"
IDLE_SECONDS = 300.0
MAX_SESSIONS = 2_000
CLIENT_INFO = types.Implementation(name="orgconnectors-gateway", version="1.0")


class UpstreamFailed(Exception):
    """The call could not be completed upstream; `str()` says why, for the caller."""

    def __init__(self, detail: str, *, unauthorized: bool = False) -> None:
        super().__init__(detail)
        self.unauthorized = unauthorized


def build_upstream_client() -> httpx2.AsyncClient:
    timeout = settings.ORGCONNECTORS_GATEWAY_CALL_TIMEOUT_SECONDS
    return build_async_client(
        library="httpx2",
        limits=httpx2.Limits(
            max_connections=1000, max_keepalive_connections=200, keepalive_expiry=60.0
        ),
        timeout=httpx2.Timeout(timeout, connect=5.0),
        headers={"User-Agent": f"{CLIENT_INFO.name}/{CLIENT_INFO.version}"},
        # Event streams live as long as their calls; each call is bounded by its timeout.
        max_response_bytes=None,
        deadline=None,
    )


def _transport(transport: str, url: str, http: httpx2.AsyncClient):
    if transport == SSE:
        timeout = settings.ORGCONNECTORS_GATEWAY_CALL_TIMEOUT_SECONDS
        return sse_client(
            url,
            timeout=10.0,
            sse_read_timeout=timeout,
            httpx_client_factory=lambda headers=None, timeout=None, auth=None: Borrowed(http),
        )
    return streamable_http_client(url, http_client=http)


def _origin(url: httpx2.URL) -> tuple:
    return (url.scheme, url.host, url.port)


class _Upstream:
    """One open client session, held by its own task (the SDK's context must be left by the
    task that entered it)."""

    def __init__(self, url: str, transport: str, token: str) -> None:
        self.url = url
        self.transport = transport
        self._token = token
        self._origin = _origin(httpx2.URL(url))
        self.client: Client | None = None
        self.error: BaseException | None = None
        self.unauthorized = False
        self.closed = False
        self.last_used = time.monotonic()
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def _attach_token(self, request: httpx2.Request) -> None:
        # To the server's own origin only: never to metadata or a redirect elsewhere.
        if self._token and _origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token}"

    async def _note_unauthorized(self, response: httpx2.Response) -> None:
        if response.status_code == 401 and _origin(response.request.url) == self._origin:
            self.unauthorized = True

    async def run(self, pooled: httpx2.AsyncClient) -> None:
        # This session's own client on the pool's connections: the token and the 401 watch
        # belong to it, whichever task sends its requests.
        http = share_async_client(
            pooled,
            event_hooks={"request": [self._attach_token], "response": [self._note_unauthorized]},
        )
        try:
            client = Client(
                _transport(self.transport, self.url, http),
                mode="auto",
                cache=None,
                read_timeout_seconds=settings.ORGCONNECTORS_GATEWAY_CALL_TIMEOUT_SECONDS,
                client_info=CLIENT_INFO,
            )
            async with client:
                self.client = client
                self.ready.set()
                await self._stop.wait()
        except Exception as exc:  # noqa: BLE001 - an upstream failing is reported to the calls
            self.error = exc
        finally:
            self.closed = True
            self.client = None
            self.ready.set()

    def close(self) -> None:
        self.closed = True
        self._stop.set()


def _key(*, connector_id: int, user_id: int, url: str, transport: str, token: str) -> tuple:
    token_key = hashlib.sha256(token.encode()).hexdigest()[:32] if token else ""
    return (connector_id, user_id, url, transport, token_key)


class UpstreamPool:
    def __init__(self) -> None:
        self.http = build_upstream_client()
        self._sessions: dict[tuple, _Upstream] = {}
        self._opening: dict[tuple, asyncio.Future] = {}

    def _sweep(self) -> None:
        cutoff = time.monotonic() - IDLE_SECONDS
        for key, upstream in list(self._sessions.items()):
            if upstream.closed or upstream.last_used < cutoff:
                upstream.close()
                self._sessions.pop(key, None)

    async def _session(self, key: tuple, url: str, transport: str, token: str) -> _Upstream:
        upstream = self._sessions.get(key)
        if upstream is not None and not upstream.closed:
            return upstream
        opening = self._opening.get(key)
        if opening is not None:
            return await asyncio.shield(opening)
        future = asyncio.get_running_loop().create_future()
        self._opening[key] = future
        try:
            self._sweep()
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions, key=lambda k: self._sessions[k].last_used)
                self._sessions.pop(oldest).close()
            upstream = _Upstream(url, transport, token)
            upstream.task = asyncio.get_running_loop().create_task(upstream.run(self.http))
            await upstream.ready.wait()
            if upstream.client is None:
                raise _failure(upstream, upstream.error, opening=True)
            self._sessions[key] = upstream
            future.set_result(upstream)
            return upstream
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else must
            raise
        finally:
            self._opening.pop(key, None)

    async def call(
        self,
        *,
        connector_id: int,
        user_id: int,
        url: str,
        transport: str,
        token: str,
        name: str,
        arguments: dict | None,
        progress: Callable[[float, float | None, str | None], Awaitable[None]] | None,
    ) -> types.CallToolResult:
        """Call the tool upstream; raises MCPError (the server's own JSON-RPC error) or
        UpstreamFailed."""
        key = _key(
            connector_id=connector_id, user_id=user_id, url=url, transport=transport, token=token
        )
        upstream = await self._session(key, url, transport, token)
        upstream.last_used = time.monotonic()
        client = upstream.client
        if client is None:
            raise UpstreamFailed("The connection to the connector's server closed; try again.")
        try:
            return await client.call_tool(name, arguments, progress_callback=progress)
        except MCPError:
            if upstream.unauthorized:
                upstream.close()
                raise _failure(upstream, None) from None
            raise
        except Exception as exc:
            # The session may be broken: the next call opens a new one.
            upstream.close()
            self._sessions.pop(key, None)
            raise _failure(upstream, exc) from exc
        finally:
            upstream.last_used = time.monotonic()

    async def aclose(self) -> None:
        for upstream in self._sessions.values():
            upstream.close()
        tasks = [u.task for u in self._sessions.values() if u.task is not None]
        self._sessions.clear()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        await self.http.aclose()


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "it closed the connection"
    if isinstance(exc, BaseExceptionGroup):
        return _describe(exc.exceptions[0])
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"it answered HTTP {exc.response.status_code}"
    if isinstance(exc, httpx2.TimeoutException):
        return "it did not answer in time"
    if isinstance(exc, httpx2.TransportError):
        return "it cannot be reached"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def _failure(upstream: _Upstream, exc: BaseException | None, *, opening: bool = False):
    if upstream.unauthorized:
        return UpstreamFailed(
            "The connector's server refused your authorization (HTTP 401).", unauthorized=True
        )
    what = "could not be opened" if opening else "failed"
    return UpstreamFailed(f"The call to the connector's server {what}: {_describe(exc)}.")


_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, UpstreamPool]" = (
    weakref.WeakKeyDictionary()
)


def upstream_pool() -> UpstreamPool:
    """This event loop's pool (one per worker process in production)."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        pool = _pools[loop] = UpstreamPool()
    return pool


async def upstream_pool_close() -> None:
    pool = _pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.aclose()
