"""One wall-clock deadline for each outbound request: DNS, connect, TLS and every read and write.

httpx's timeouts apply to each network operation, so a server sending a byte a second holds a
request for as long as it likes. The guarded transport starts a `Deadline` for each request and
makes it current while the request runs and while its body is read; the network streams below
shorten every operation's timeout to what is left of it.

The deadline lives in a context variable because connections are pooled: one connection serves
many requests, each with its own deadline, and the stream looks up the one in force.
"""

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from orgconnectors.egress.guard import EgressError


class DeadlineExceeded(EgressError):
    """The server did not give a complete answer within the deadline."""


@dataclass(frozen=True)
class Deadline:
    seconds: float
    at: float  # time.monotonic()

    @classmethod
    def start(cls, seconds: float) -> "Deadline":
        return cls(seconds, time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def exceeded(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"no complete answer within {self.seconds:g} s")

    def bound(self, timeout: float | None) -> float:
        """`timeout` shortened to what is left; raises once nothing is left."""
        left = self.remaining()
        if left <= 0:
            raise self.exceeded()
        return left if timeout is None else min(timeout, left)


_current: ContextVar[Deadline | None] = ContextVar("egress_deadline", default=None)


def current_deadline() -> Deadline | None:
    return _current.get()


@contextlib.contextmanager
def running_until(deadline: Deadline | None) -> Iterator[None]:
    token = _current.set(deadline)
    try:
        yield
    finally:
        _current.reset(token)


def within_deadline(call: Callable[[float | None], Any], timeout: float | None, timeouts) -> Any:
    """`call(timeout)` with the timeout shortened to the current deadline; a timeout caused by
    the deadline (one of `timeouts`) is reported as DeadlineExceeded."""
    deadline = current_deadline()
    if deadline is None:
        return call(timeout)
    try:
        return call(deadline.bound(timeout))
    except timeouts as exc:
        if deadline.remaining() <= 0:
            raise deadline.exceeded() from exc
        raise


async def awithin_deadline(call, timeout: float | None, timeouts) -> Any:
    """`within_deadline` for a coroutine function."""
    deadline = current_deadline()
    if deadline is None:
        return await call(timeout)
    try:
        return await call(deadline.bound(timeout))
    except timeouts as exc:
        if deadline.remaining() <= 0:
            raise deadline.exceeded() from exc
        raise
