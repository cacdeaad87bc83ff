"""The network backend that connects only to addresses the guard has checked.

How the pinning works: httpx hands requests to an httpcore connection pool, and the pool asks
its network backend to `connect_tcp(host, port)` and later `start_tls(server_hostname=host)`.
This backend resolves and checks the host in `connect_tcp` and connects to the checked IP
literal, so there is no second DNS lookup, while TLS still sends SNI for, and verifies the
certificate against, the name in the URL.

The classes here are mixins: `transport.classes` combines each with the base class of the
library it serves (httpcore.AsyncNetworkBackend, ...), which it also stores as `_hc` (httpcore or
httpcore2).
"""

import contextlib
import functools
from collections.abc import Iterator
from contextvars import ContextVar
from types import ModuleType
from typing import Any

from orgconnectors.egress.deadline import (
    Deadline,
    DeadlineExceeded,
    awithin_deadline,
    current_deadline,
    running_until,
    within_deadline,
)
from orgconnectors.egress.guard import (
    EgressError,
    EgressPolicy,
    EgressRefused,
    aresolve_and_check,
    call_in_thread,
    check_plaintext_addresses,
    current_policy,
    resolve_and_check,
)

# Set while a plain http:// request runs, so the connection it opens is checked to stay on
# this machine whatever its name resolves to.
_plaintext: ContextVar[bool] = ContextVar("egress_plaintext", default=False)


@contextlib.contextmanager
def sending(request: Any, deadline: Deadline | None) -> Iterator[None]:
    """Around the sending of one request: its deadline, and whether it goes in plaintext."""
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


@contextlib.contextmanager
def _dns_failure_as_connect_error(hc: ModuleType) -> Iterator[None]:
    try:
        yield
    except (EgressRefused, DeadlineExceeded):
        raise
    except EgressError as exc:  # a name that does not resolve fails like any other connect
        raise hc.ConnectError(str(exc)) from exc


class AsyncPinningBackend:
    _hc: ModuleType
    _stream: type  # the network stream wrapper, set by `transport.classes`

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


class SyncPinningBackend:
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
