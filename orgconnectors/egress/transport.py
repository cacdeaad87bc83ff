"""The guarded transport: checks each request's URL, pins its connections (pinning.py), caps
its answer and gives it one wall-clock deadline.

The transport decodes compressed bodies itself, so the response cap counts decoded bytes
(`decoding.py`), and gives each request one wall-clock deadline (`deadline.py`).

The same classes are built for `httpx` (used by the project) and for `httpx2` (which the MCP
SDK 2.x requires for its clients); the two libraries share one design under different names.
"""

import functools
import importlib
from types import ModuleType
from typing import Any, Literal

from orgconnectors.egress.deadline import Deadline
from orgconnectors.egress.decoding import decoder_for
from orgconnectors.egress.guard import (
    EgressPolicy,
    check_request_url,
    current_policy,
    read_setting,
)
from orgconnectors.egress.pinning import AsyncPinningBackend, SyncPinningBackend, sending
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

DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024
DEFAULT_DEADLINE_SECONDS = 30.0
FROM_SETTINGS: Any = object()


def default_max_response_bytes() -> int:
    return int(read_setting("ORGCONNECTORS_EGRESS_MAX_RESPONSE_BYTES", DEFAULT_MAX_RESPONSE_BYTES))


def default_deadline() -> float:
    return float(read_setting("ORGCONNECTORS_EGRESS_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS))


def _declared_too_large(request: Any, response: Any, limit: int | None) -> bool:
    # Refuse early when the server says so up front; HEAD answers carry no body.
    length = response.headers.get("content-length", "")
    return (
        limit is not None and request.method != "HEAD" and length.isdigit() and int(length) > limit
    )


# The classes below are mixins: `classes` combines each with the base class of the library
# it serves (httpx.AsyncHTTPTransport, ...), which it also stores as `_hx` (httpx or httpx2)
# and `_hc` (httpcore or httpcore2).


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
        with sending(request, deadline):
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
        with sending(request, deadline):
            response = super().handle_request(request)
        if _declared_too_large(request, response, self._max_response_bytes):
            response.stream.close()
            raise self._too_large()
        self._wrap(response, deadline)
        return response


@functools.cache
def classes(library: Library) -> tuple[type, type]:
    """The (async, sync) guarded transport classes of `library`."""
    hx, hc = importlib.import_module(library), importlib.import_module(_HTTPCORE[library])

    def make(name: str, mixin: type, base: type) -> Any:
        return type(name, (mixin, base), {"_hx": hx, "_hc": hc, "__module__": __name__})

    async_transport = make("GuardedAsyncTransport", _AsyncTransport, hx.AsyncHTTPTransport)
    async_transport._backend = make(
        "PinningAsyncBackend", AsyncPinningBackend, hc.AsyncNetworkBackend
    )
    async_transport._backend._stream = make(
        "DeadlineAsyncStream", AsyncDeadlineStream, hc.AsyncNetworkStream
    )
    async_transport._body = make("GuardedAsyncBody", AsyncBody, hx.AsyncByteStream)
    sync_transport = make("GuardedTransport", _SyncTransport, hx.HTTPTransport)
    sync_transport._backend = make("PinningBackend", SyncPinningBackend, hc.NetworkBackend)
    sync_transport._backend._stream = make("DeadlineStream", DeadlineStream, hc.NetworkStream)
    sync_transport._body = make("GuardedBody", SyncBody, hx.SyncByteStream)
    return async_transport, sync_transport


# For isinstance checks; client.build_client and build_async_client are the way to get one.
GuardedAsyncTransport, GuardedTransport = classes("httpx")
