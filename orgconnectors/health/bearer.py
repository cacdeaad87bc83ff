"""The access token a probe of an OAuth server sends, to that server only.

The pooled client is shared by every probe of the worker, so a token cannot be one of its
headers. Each probe puts its own in a context variable (as it does its Evidence; the SDK's
tasks inherit it) and the client's request hook adds it to the requests that go to the
server's own origin: never to metadata or a redirect elsewhere.
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx2

Origin = tuple[str, str, int | None]


@dataclass(frozen=True)
class _Bearer:
    origin: Origin
    token: str = field(repr=False)


_current: contextvars.ContextVar["_Bearer | None"] = contextvars.ContextVar(
    "health_probe_bearer", default=None
)


def _origin(url: httpx2.URL) -> Origin:
    return (url.scheme, url.host, url.port)


@contextmanager
def bearer_for(url: str, token: str) -> Iterator[None]:
    """While inside, requests of this task to `url`'s origin carry `token` (none if empty)."""
    reset = _current.set(_Bearer(_origin(httpx2.URL(url)), token) if token else None)
    try:
        yield
    finally:
        _current.reset(reset)


async def attach_bearer(request: httpx2.Request) -> None:
    """The pooled client's request hook."""
    bearer = _current.get()
    if bearer is not None and _origin(request.url) == bearer.origin:
        request.headers["Authorization"] = f"Bearer {bearer.token}"
