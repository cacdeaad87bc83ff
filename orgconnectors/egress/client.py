"""HTTP clients whose every connection goes to an address the guard has checked.

How the pinning works: httpx hands requests to an httpcore connection pool, and the pool asks
its network backend to `connect_tcp(host, port)` and later `start_tls(server_hostname=host)`.
Our backend resolves and checks the host in `connect_tcp` and connects to the checked IP
literal, so there is no second DNS lookup, while TLS still sends SNI for, and verifies the
certificate against, the name in the URL.

The same classes are built for `httpx` (used by the project) and for `httpx2` (which the MCP
SDK 2.x requires for its clients); the two libraries share one design under different names.
"""

import contextlib
import functools
import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Literal

import httpx

from orgconnectors.egress.guard import (
    EgressError,
    EgressPolicy,
    EgressRefused,
    aresolve_and_check,
    check_request_url,
    current_policy,
    read_setting,
    resolve_and_check,
)
from orgconnectors.egress.trust import egress_ssl_context

Library = Literal["httpx", "httpx2"]
_HTTPCORE = {"httpx": "httpcore", "httpx2": "httpcore2"}
_DEFAULT_PORTS = {"http": 80, "https": 443}

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_HOPS = 5
FROM_SETTINGS: Any = object()

# Each of these would send requests around the guarded transport.
_BYPASSING_OPTIONS = ("transport", "mounts", "proxy", "trust_env")
_TRANSPORT_OPTIONS = ("policy", "verify", "cert", "limits", "retries", "max_response_bytes")


class ResponseTooLarge(EgressError):
    """The server sent more than the configured cap."""


def _size(n: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def default_timeout(library: Library = "httpx") -> Any:
    connect = float(read_setting("ORGCONNECTORS_EGRESS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT))
    read = float(read_setting("ORGCONNECTORS_EGRESS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT))
    return importlib.import_module(library).Timeout(read, connect=connect)


def default_max_response_bytes() -> int:
    return int(read_setting("ORGCONNECTORS_EGRESS_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES))


# The classes below are mixins: `_classes` combines each with the base class of the library
# it serves (httpcore.AsyncNetworkBackend, httpx.AsyncHTTPTransport, ...), which it also
# stores as `_hx` (httpx or httpx2) and `_hc` (httpcore or httpcore2).


@contextlib.contextmanager
def _dns_failure_as_connect_error(hc: ModuleType) -> Iterator[None]:
    try:
        yield
    except EgressRefused:
        raise
    except EgressError as exc:  # a name that does not resolve fails like any other connect
        raise hc.ConnectError(str(exc)) from exc


class _AsyncBackend:
    _hc: ModuleType

    def __init__(self, policy: EgressPolicy | None) -> None:
        self._policy, self._inner = policy, self._hc.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, **options):
        with _dns_failure_as_connect_error(self._hc):
            policy = self._policy or current_policy()
            addresses = await aresolve_and_check(host, port, policy=policy, timeout=timeout)
        for ip in addresses[:-1]:  # the next address if one does not answer; all were checked
            with contextlib.suppress(self._hc.ConnectError, self._hc.ConnectTimeout):
                return await self._inner.connect_tcp(str(ip), port, timeout, **options)
        return await self._inner.connect_tcp(str(addresses[-1]), port, timeout, **options)

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise EgressRefused("connections through unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _SyncBackend:
    _hc: ModuleType

    def __init__(self, policy: EgressPolicy | None) -> None:
        self._policy, self._inner = policy, self._hc.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, **options):
        # getaddrinfo takes no timeout, so a slow resolver can hold this lookup past the
        # connect timeout; the async backend runs it in a thread and stops waiting instead.
        with _dns_failure_as_connect_error(self._hc):
            addresses = resolve_and_check(host, port, policy=self._policy or current_policy())
        for ip in addresses[:-1]:
            with contextlib.suppress(self._hc.ConnectError, self._hc.ConnectTimeout):
                return self._inner.connect_tcp(str(ip), port, timeout, **options)
        return self._inner.connect_tcp(str(addresses[-1]), port, timeout, **options)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise EgressRefused("connections through unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _count(seen: int, chunk: bytes, limit: int) -> int:
    seen += len(chunk)
    if seen > limit:
        raise ResponseTooLarge(f"response larger than {_size(limit)}")
    return seen


class _CappedAsyncStream:
    def __init__(self, inner: Any, limit: int) -> None:
        self._inner, self._limit = inner, limit

    async def __aiter__(self):
        seen = 0
        async for chunk in self._inner:
            seen = _count(seen, chunk, self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class _CappedStream:
    def __init__(self, inner: Any, limit: int) -> None:
        self._inner, self._limit = inner, limit

    def __iter__(self):
        seen = 0
        for chunk in self._inner:
            seen = _count(seen, chunk, self._limit)
            yield chunk

    def close(self) -> None:
        self._inner.close()


def _declared_too_large(request: Any, response: Any, limit: int | None) -> bool:
    # Refuse early when the server says so up front; HEAD answers carry no body.
    length = response.headers.get("content-length", "")
    return (
        limit is not None and request.method != "HEAD" and length.isdigit() and int(length) > limit
    )


class _TransportBase:
    _hx: ModuleType
    _hc: ModuleType
    _backend: type
    _capped: type
    _pool_class: str

    def __init__(
        self,
        *,
        policy: EgressPolicy | None = None,
        verify: Any = True,
        cert: Any = None,
        limits: Any = None,
        max_response_bytes: int | None = FROM_SETTINGS,
        retries: int = 0,
    ) -> None:
        limits = limits or self._hx.Limits(max_connections=100, max_keepalive_connections=20)
        if verify is True:  # the public roots and ORGCONNECTORS_EGRESS_CA_FILE (trust.py)
            verify = egress_ssl_context(shared=cert is None)
        ssl_context = self._hx.create_ssl_context(verify=verify, cert=cert, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits, retries=retries)
        if not hasattr(self, "_pool"):  # the one private attribute relied upon
            raise RuntimeError(f"{self._hx.__name__} no longer keeps its pool in `_pool`")
        # Replaces the pool the base class just built, to add our network backend.
        self._pool = getattr(self._hc, self._pool_class)(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            retries=retries,
            network_backend=self._backend(policy),
        )
        self._policy = policy
        if max_response_bytes is FROM_SETTINGS:
            max_response_bytes = default_max_response_bytes()
        self._max_response_bytes = max_response_bytes

    def _check(self, request: Any) -> None:
        # Here and not only in the client, so no way of sending a request skips it.
        check_request_url(request.url, policy=self._policy or current_policy())

    def _cap(self, response: Any) -> None:
        if self._max_response_bytes is not None:
            response.stream = self._capped(response.stream, self._max_response_bytes)

    def _too_large(self) -> ResponseTooLarge:
        return ResponseTooLarge(f"response larger than {_size(self._max_response_bytes)}")


class _AsyncTransport(_TransportBase):
    _pool_class = "AsyncConnectionPool"

    async def handle_async_request(self, request: Any) -> Any:
        self._check(request)
        response = await super().handle_async_request(request)
        if _declared_too_large(request, response, self._max_response_bytes):
            await response.stream.aclose()
            raise self._too_large()
        self._cap(response)
        return response


class _SyncTransport(_TransportBase):
    _pool_class = "ConnectionPool"

    def handle_request(self, request: Any) -> Any:
        self._check(request)
        response = super().handle_request(request)
        if _declared_too_large(request, response, self._max_response_bytes):
            response.stream.close()
            raise self._too_large()
        self._cap(response)
        return response


@functools.cache
def _classes(library: Library) -> tuple[type, type]:
    hx, hc = importlib.import_module(library), importlib.import_module(_HTTPCORE[library])

    def make(name: str, mixin: type, base: type) -> Any:
        return type(name, (mixin, base), {"_hx": hx, "_hc": hc, "__module__": __name__})

    async_transport = make("GuardedAsyncTransport", _AsyncTransport, hx.AsyncHTTPTransport)
    async_transport._backend = make("PinningAsyncBackend", _AsyncBackend, hc.AsyncNetworkBackend)
    async_transport._capped = make("CappedAsyncStream", _CappedAsyncStream, hx.AsyncByteStream)
    sync_transport = make("GuardedTransport", _SyncTransport, hx.HTTPTransport)
    sync_transport._backend = make("PinningBackend", _SyncBackend, hc.NetworkBackend)
    sync_transport._capped = make("CappedStream", _CappedStream, hx.SyncByteStream)
    return async_transport, sync_transport


# For isinstance checks; build_client and build_async_client are the way to get one.
GuardedAsyncTransport, GuardedTransport = _classes("httpx")


def _build(asynchronous: bool, library: Library, timeout: Any, options: dict[str, Any]) -> Any:
    bypassing = sorted(set(options) & set(_BYPASSING_OPTIONS))
    if bypassing:
        raise TypeError(f"{', '.join(bypassing)} would bypass the egress guard")
    transport_options = {key: options.pop(key) for key in _TRANSPORT_OPTIONS if key in options}
    transport = _classes(library)[0 if asynchronous else 1](**transport_options)
    client_class = getattr(
        importlib.import_module(library), "AsyncClient" if asynchronous else "Client"
    )
    options.setdefault("follow_redirects", False)
    return client_class(
        transport=transport, timeout=timeout or default_timeout(library), trust_env=False, **options
    )


def build_async_client(
    *, library: Library = "httpx", timeout: Any = None, **options: Any
) -> httpx.AsyncClient:
    """An AsyncClient (of httpx, or of httpx2 with library="httpx2") behind the egress guard.

    Transport options: policy (an EgressPolicy; default: the settings at each request),
    verify, cert, limits, retries, max_response_bytes (None lifts the cap, e.g. for a
    long-lived event stream). Everything else goes to the client (headers, auth, base_url...).
    """
    return _build(True, library, timeout, options)


def build_client(
    *, library: Library = "httpx", timeout: Any = None, **options: Any
) -> httpx.Client:
    """The synchronous counterpart of `build_async_client`."""
    return _build(False, library, timeout, options)


def build_mcp_http_client(
    headers: Any = None,
    timeout: Any = None,
    auth: Any = None,
    *,
    policy: EgressPolicy | None = None,
    max_response_bytes: int | None = FROM_SETTINGS,
) -> Any:
    """An httpx2.AsyncClient for the MCP SDK; fits its `McpHttpClientFactory` signature.

    The SDK only accepts httpx2 clients; OAuth requests made by an `auth` provider go through
    the same guarded transport.
    """
    return build_async_client(
        library="httpx2",
        policy=policy,
        max_response_bytes=max_response_bytes,
        headers=headers,
        timeout=timeout,
        auth=auth,
    )


def _origin(url: Any) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _next_hop(response: Any, hops: int, max_hops: int) -> Any:
    target = response.next_request
    if target is None or _origin(target.url) != _origin(response.request.url):
        return None  # not a redirect, or one to another origin: handed back unfollowed
    if hops >= max_hops:
        raise EgressError(f"more than {max_hops} redirects")
    return target  # the transport checks it again when it is sent


def follow_redirects_safely(client: Any, request: Any, *, max_hops: int = DEFAULT_MAX_HOPS) -> Any:
    """Send `request`, following redirects only within its origin (scheme, host and port).

    A redirect elsewhere is returned as the response, unfollowed; `response.next_request`
    says where it pointed.
    """
    hops = 0
    while True:
        response = client.send(request, follow_redirects=False)
        request = _next_hop(response, hops, max_hops)
        if request is None:
            return response
        hops += 1


async def afollow_redirects_safely(
    client: Any, request: Any, *, max_hops: int = DEFAULT_MAX_HOPS
) -> Any:
    """`follow_redirects_safely` for an AsyncClient."""
    hops = 0
    while True:
        response = await client.send(request, follow_redirects=False)
        request = _next_hop(response, hops, max_hops)
        if request is None:
            return response
        hops += 1
