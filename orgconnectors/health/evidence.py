"""What the server actually answered, seen below the MCP SDK.

The SDK turns HTTP failures into JSON-RPC errors ("Server returned an error response") and
swallows some transport errors, so the status code, the content type and the real exception
are gone by the time an exception reaches the probe. A response hook on the pooled client
writes them down, per probe: each probe runs in its own asyncio task with its own `Evidence`
in a context variable, which the SDK's own tasks inherit. Errors raised before any answer
(refused, timed out, refused by the egress guard) reach the probe as exceptions.
"""

import contextvars
from dataclasses import dataclass, field
from typing import Any

import httpx2

_current: contextvars.ContextVar["Evidence | None"] = contextvars.ContextVar(
    "health_probe_evidence", default=None
)


@dataclass(frozen=True)
class Answer:
    """One HTTP response, reduced to what classifies it."""

    method: str
    url: str
    status: int
    content_type: str
    www_authenticate: str
    location: str  # absolute; empty unless a redirect

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400 and bool(self.location)


@dataclass
class Evidence:
    answers: list[Answer] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)

    def first_answer(self, *, status: int) -> Answer | None:
        return next((a for a in self.answers if a.status == status), None)


def start_recording() -> Evidence:
    """Begin a new record for the current task (and the tasks it starts from now on)."""
    evidence = Evidence()
    _current.set(evidence)
    return evidence


def _answer(request: httpx2.Request, response: httpx2.Response) -> Answer:
    location = ""
    raw_location = response.headers.get("location")
    if 300 <= response.status_code < 400 and raw_location:
        try:
            location = str(request.url.join(raw_location))
        except httpx2.InvalidURL:
            location = raw_location
    content_type = response.headers.get("content-type", "")
    return Answer(
        method=request.method,
        url=str(request.url),
        status=response.status_code,
        content_type=content_type.partition(";")[0].strip().lower(),
        www_authenticate=response.headers.get("www-authenticate", ""),
        location=location,
    )


class _RecordingStream(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, evidence: Evidence) -> None:
        self._inner, self._evidence = inner, evidence

    async def __aiter__(self):
        try:
            async for chunk in self._inner:
                yield chunk
        except Exception as exc:  # recorded, then raised on unchanged
            self._evidence.errors.append(exc)
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()


async def record_response(response: httpx2.Response) -> None:
    """The pooled client's response hook: note the answer, and watch its body for errors."""
    evidence = _current.get()
    if evidence is None:
        return
    evidence.answers.append(_answer(response.request, response))
    # The hook runs before the body is read, so errors reading it pass through our stream.
    response.stream = _RecordingStream(response.stream, evidence)
