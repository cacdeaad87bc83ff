"""What the guarded transport puts around the streams it gets from httpcore and httpx.

The network streams end every operation by the deadline of the request using the connection;
the body stream decodes, counts and reads under that deadline. Mixins, combined with the
stream base classes of httpcore/httpcore2 and httpx/httpx2 by `transport.classes`.
"""

import functools
from types import ModuleType
from typing import Any

from orgconnectors.egress.deadline import awithin_deadline, running_until, within_deadline
from orgconnectors.egress.decoding import DecodingFailed
from orgconnectors.egress.guard import EgressError


class ResponseTooLarge(EgressError):
    """The server's answer, decoded, is larger than the configured cap."""


def size_in_words(n: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


class AsyncDeadlineStream:
    """A connection whose every operation ends by the deadline of the request using it."""

    _hc: ModuleType

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        call = functools.partial(self._inner.read, max_bytes)
        return await awithin_deadline(call, timeout, self._hc.TimeoutException)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        call = functools.partial(self._inner.write, buffer)
        return await awithin_deadline(call, timeout, self._hc.TimeoutException)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        call = functools.partial(self._inner.start_tls, ssl_context, server_hostname)
        return type(self)(await awithin_deadline(call, timeout, self._hc.TimeoutException))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineStream:
    _hc: ModuleType

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        call = functools.partial(self._inner.read, max_bytes)
        return within_deadline(call, timeout, self._hc.TimeoutException)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        call = functools.partial(self._inner.write, buffer)
        return within_deadline(call, timeout, self._hc.TimeoutException)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        call = functools.partial(self._inner.start_tls, ssl_context, server_hostname)
        return type(self)(within_deadline(call, timeout, self._hc.TimeoutException))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class Body:
    """What a response's body becomes on its way to httpx: decoded a bounded piece at a time,
    counted against the cap, read under the request's deadline."""

    _hx: ModuleType

    def __init__(self, inner: Any, *, decoder: Any, limit: int | None, deadline: Any) -> None:
        self._inner, self._decoder, self._limit, self._deadline = inner, decoder, limit, deadline
        self._seen = 0

    def _pieces(self, pieces) -> Any:
        try:
            for piece in pieces:
                self._seen += len(piece)
                if self._limit is not None and self._seen > self._limit:
                    raise ResponseTooLarge(f"answer larger than {size_in_words(self._limit)}")
                yield piece
        except DecodingFailed as exc:
            raise self._hx.DecodingError(f"the answer's compressed body is broken ({exc})") from exc

    def _decoded(self, chunk: bytes) -> Any:
        return self._pieces(self._decoder.feed(chunk) if self._decoder else (chunk,))

    def _rest(self) -> Any:
        return self._pieces(self._decoder.flush() if self._decoder else ())


class AsyncBody(Body):
    async def __aiter__(self):
        chunks = self._inner.__aiter__()
        while True:
            with running_until(self._deadline):
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
            for piece in self._decoded(chunk):
                yield piece
        for piece in self._rest():
            yield piece

    async def aclose(self) -> None:
        await self._inner.aclose()


class SyncBody(Body):
    def __iter__(self):
        chunks = iter(self._inner)
        while True:
            with running_until(self._deadline):
                chunk = next(chunks, None)
            if chunk is None:
                break
            yield from self._decoded(chunk)
        yield from self._rest()

    def close(self) -> None:
        self._inner.close()
