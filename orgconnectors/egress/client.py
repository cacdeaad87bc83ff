"""HTTP clients whose every connection goes to an address the guard has checked.

How the pinning works: httpx hands requests to an httpcore connection pool, and the pool asks
its network backend to `connect_tcp(host, port)` and later `start_tls(server_hostname=host)`.
Our backend resolves and checks the host in `connect_tcp` and connects to the checked IP
literal, so there is no second DNS lookup, while TLS still sends SNI for, and verifies the
certificate against, the name in the URL.

The transport also decodes compressed bodies itself, so the response cap counts decoded bytes
(`decoding.py`), and gives each request one wall-clock deadline (`deadline.py`).

The same classes are built for `httpx` (used by the project) and for `httpx2` (which the MCP
SDK 2.x requires for its clients); the two libraries share one design under different names.
"""

import contextlib
import functools
import importlib
from collections.abc import Iterator
from contextvars import ContextVar
from types import ModuleType
from typing import Any, Literal

import httpx

from orgconnectors.egress.deadline import (
    Deadline,
    DeadlineExceeded,
    awithin_deadline,
    current_deadline,
    running_until,
    within_deadline,
)
from orgconnectors.egress.decoding import ACCEPT_ENCODING, decoder_for
from orgconnectors.egress.guard import (
    EgressError,
    EgressPolicy,
    EgressRefused,
    aresolve_and_check,
    call_in_thread,
    check_plaintext_addresses,
    check_request_url,
    current_policy,
    read_setting,
    resolve_and_check,
)
from orgconnectors.egress.streams import (
    AsyncBody,
    AsyncDeadlineStream,
    DeadlineStream,
    ResponseTooLarge,
    SyncBody,
    size_in_words,
)
from orgconnectors.egress.trust import egress_ssl_context

Library = Literal["httpx", "httpx2"]
_HTTPCORE = {"httpx": "httpcore", "httpx2": "httpcore2"}
_DEFAULT_PORTS = {"http": 80, "https": 443}

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024
DEFAULT_DEADLINE_SECONDS = 30.0
DEFAULT_MAX_HOPS = 5
FROM_SETTINGS: Any = object()

# Each of these would send requests around the guarded transport.
_BYPASSING_OPTIONS = ("transport", "mounts", "proxy", "trust_env")
_TRANSPORT_OPTIONS = (
    "policy",
    "verify",
    "cert",
    "limits",
    "retries",
    "max_response_bytes",
    "deadline",
)


def default_timeout(library: Library = "httpx") -> Any:
    connect = float(read_setting("ORGCONNECTORS_EGRESS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT))
    read = float(read_setting("ORGCONNECTORS_EGRESS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT))
    return importlib.import_module(library).Timeout(read, connect=connect)


def default_max_response_bytes() -> int:
    return int(read_setting("ORGCONNECTORS_EGRESS_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES))


def default_deadline() -> float:
    return float(read_setting("ORGCONNECTORS_EGRESS_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS))


# Set while a plain http:// request runs, so the connection it opens is checked to stay on
# this machine whatever its name resolves to.
_plaintext: ContextVar[bool] = ContextVar("egress_plaintext", default=False)


@contextlib.contextmanager
def _sending(request: Any, deadline: Deadline | None) -> Iterator[None]:
    token = _plaintext.set(request.url.scheme == "http")
    try:
        with running_until(deadline):
            yield
    finally:
        _plaintext.reset(token)


def _checked_plaintext(host: str, addresses: list) -> list:
    if _plaintext.get():
        check_plaintext_addresses(host, addresses)
    return addresses


# The classes below are mixins: `_classes` combines each with the base class of the library
# it serves (httpcore.AsyncNetworkBackend, httpx.AsyncHTTPTransport, ...), which it also
# stores as `_hx` (httpx or httpx2) and `_hc` (httpcore or httpcore2).


@contextlib.contextmanager
def _dns_failure_as_connect_error(hc: ModuleType) -> Iterator[None]:
    try:
        yield
    except (EgressRefused, DeadlineExceeded):
        raise
    except EgressError as exc:  # a name that does not resolve fails like any other connect
        raise hc.ConnectError(str(exc)) from exc


class _AsyncBackend:
    _hc: ModuleType
    _stream: type  # the network stream wrapper, set by `_classes`

    def __init__(self, policy: EgressPolicy | None) -> None:
        self._policy, self._inner = policy, self._hc.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, **options):
        with _dns_failure_as_connect_error(self._hc):
            policy = self._policy or current_policy()
            deadline = current_deadline()
            lookup = timeout if deadline is None else deadline.bound(timeout)
            try:
                addresses = await aresolve_and_check(host, port, policy=policy, timeout=lookup)
                _checked_plaintext(host, addresses)
            except EgressError:
                if deadline is not None and deadline.remaining() <= 0:
                    raise deadline.exceeded() from None
                raise

        async def connect(ip, bounded):
            return await self._inner.connect_tcp(str(ip), port, bounded, **options)

        timeouts = self._hc.TimeoutException
        for ip in addresses[:-1]:  # the next address if one does not answer; all were checked
            with contextlib.suppress(self._hc.ConnectError, self._hc.ConnectTimeout):
                stream = await awithin_deadline(functools.partial(connect, ip), timeout, timeouts)
                return self._stream(stream)
        last = functools.partial(connect, addresses[-1])
        return self._stream(await awithin_deadline(last, timeout, timeouts))

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise EgressRefused("connections through unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _SyncBackend:
    _hc: ModuleType
    _stream: type

    def __init__(self, policy: EgressPolicy | None) -> None:
        self._policy, self._inner = policy, self._hc.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, **options):
        with _dns_failure_as_connect_error(self._hc):
            addresses = _checked_plaintext(host, self._resolve(host, port, timeout))

        def connect(ip, bounded):
            return self._inner.connect_tcp(str(ip), port, bounded, **options)

        timeouts = self._hc.TimeoutException
        for ip in addresses[:-1]:
            with contextlib.suppress(self._hc.ConnectError, self._hc.ConnectTimeout):
                stream = within_deadline(functools.partial(connect, ip), timeout, timeouts)
                return self._stream(stream)
        last = functools.partial(connect, addresses[-1])
        return self._stream(within_deadline(last, timeout, timeouts))

    def _resolve(self, host, port, timeout):
        # getaddrinfo takes no timeout, so it runs in a thread that is no longer waited for
        # once the connect timeout or the request's deadline is reached.
        policy = self._policy or current_policy()
        deadline = current_deadline()
        limit = timeout if deadline is None else deadline.bound(timeout)

        def too_slow() -> EgressError:
            if deadline is not None and deadline.remaining() <= 0:
                return deadline.exceeded()
            return EgressError(f"resolving {host!r} took longer than {limit:g} s")

        return call_in_thread(
            functools.partial(resolve_and_check, host, port, policy=policy), limit, too_slow
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise EgressRefused("connections through unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


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
    _body: type
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
        deadline: float | None = FROM_SETTINGS,
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
        if deadline is FROM_SETTINGS:
            deadline = default_deadline()
        self._deadline_seconds = deadline  # None: no deadline, e.g. for a long-lived stream

    def _start(self, request: Any) -> Deadline | None:
        # Here and not only in the client, so no way of sending a request skips it.
        check_request_url(request.url, policy=self._policy or current_policy())
        if self._deadline_seconds is None:
            return None
        deadline = Deadline.start(self._deadline_seconds)
        # Waiting for a free connection in the pool counts too; the pool reads this.
        timeouts = dict(request.extensions.get("timeout", {}))
        timeouts["pool"] = deadline.bound(timeouts.get("pool"))
        request.extensions["timeout"] = timeouts
        return deadline

    def _wrap(self, response: Any, deadline: Deadline | None) -> None:
        encoding = response.headers.get("content-encoding", "")
        # Whether decoded here or not decodable at all, httpx must not decode it after the cap.
        for name in ("content-encoding", "content-length") if encoding else ():
            response.headers.pop(name, None)
        response.stream = self._body(
            response.stream,
            decoder=decoder_for(encoding) if encoding else None,
            limit=self._max_response_bytes,
            deadline=deadline,
        )

    def _too_large(self) -> ResponseTooLarge:
        return ResponseTooLarge(f"answer larger than {size_in_words(self._max_response_bytes)}")


class _AsyncTransport(_TransportBase):
    _pool_class = "AsyncConnectionPool"

    async def handle_async_request(self, request: Any) -> Any:
        deadline = self._start(request)
        with _sending(request, deadline):
            response = await super().handle_async_request(request)
        if _declared_too_large(request, response, self._max_response_bytes):
            await response.stream.aclose()
            raise self._too_large()
        self._wrap(response, deadline)
        return response


class _SyncTransport(_TransportBase):
    _pool_class = "ConnectionPool"

    def handle_request(self, request: Any) -> Any:
        deadline = self._start(request)
        with _sending(request, deadline):
            response = super().handle_request(request)
        if _declared_too_large(request, response, self._max_response_bytes):
            response.stream.close()
            raise self._too_large()
        self._wrap(response, deadline)
        return response


@functools.cache
def _classes(library: Library) -> tuple[type, type]:
    hx, hc = importlib.import_module(library), importlib.import_module(_HTTPCORE[library])

    def make(name: str, mixin: type, base: type) -> Any:
        return type(name, (mixin, base), {"_hx": hx, "_hc": hc, "__module__": __name__})

    async_transport = make("GuardedAsyncTransport", _AsyncTransport, hx.AsyncHTTPTransport)
    async_transport._backend = make("PinningAsyncBackend", _AsyncBackend, hc.AsyncNetworkBackend)
    async_transport._backend._stream = make(
        "DeadlineAsyncStream", AsyncDeadlineStream, hc.AsyncNetworkStream
    )
    async_transport._body = make("GuardedAsyncBody", AsyncBody, hx.AsyncByteStream)
    sync_transport = make("GuardedTransport", _SyncTransport, hx.HTTPTransport)
    sync_transport._backend = make("PinningBackend", _SyncBackend, hc.NetworkBackend)
    sync_transport._backend._stream = make("DeadlineStream", DeadlineStream, hc.NetworkStream)
    sync_transport._body = make("GuardedBody", SyncBody, hx.SyncByteStream)
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
    client = client_class(
        transport=transport, timeout=timeout or default_timeout(library), trust_env=False, **options
    )
    if "accept-encoding" not in {name.lower() for name in (options.get("headers") or {})}:
        # Only what the transport can decode in bounded pieces (httpx's default may add zstd).
        client.headers["Accept-Encoding"] = ACCEPT_ENCODING
    return client


def build_async_client(
    *, library: Library = "httpx", timeout: Any = None, **options: Any
) -> httpx.AsyncClient:
    """An AsyncClient (of httpx, or of httpx2 with library="httpx2") behind the egress guard.

    Transport options: policy (an EgressPolicy; default: the settings at each request),
    verify, cert, limits, retries, max_response_bytes (the cap on decoded bytes; None lifts
    it, e.g. for a long-lived event stream), deadline (seconds for the whole request, body
    included; None lifts it). Everything else goes to the client (headers, auth, base_url...).
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
    deadline: float | None = FROM_SETTINGS,
) -> Any:
    """An httpx2.AsyncClient for the MCP SDK; fits its `McpHttpClientFactory` signature.

    The SDK only accepts httpx2 clients; OAuth requests made by an `auth` provider go through
    the same guarded transport.
    """
    return build_async_client(
        library="httpx2",
        policy=policy,
        max_response_bytes=max_response_bytes,
        deadline=deadline,
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
