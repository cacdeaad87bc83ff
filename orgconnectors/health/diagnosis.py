"""Turn a failed exchange into an outcome and a sentence an owner understands.

Two sources: the exception the SDK raised (often an ExceptionGroup, often a stand-in JSON-RPC
error), and the `Evidence` of what the server actually answered. Transport-level facts (refused
by the egress guard, a timeout, a refused connection, TLS) win; then the HTTP answer; then what
the SDK made of the body.
"""

import logging
import ssl
from dataclasses import dataclass

import httpx2
from mcp import MCPError
from mcp_types import PARSE_ERROR
from pydantic import ValidationError

from orgconnectors.egress import (
    DeadlineExceeded,
    EgressError,
    EgressRefused,
    ResponseTooLarge,
    check_url,
)
from orgconnectors.health.evidence import Answer, Evidence
from orgconnectors.health.outcomes import Outcome

logger = logging.getLogger(__name__)

_MCP_CONTENT_TYPES = ("application/json", "text/event-stream")
# Answers that mean "no MCP endpoint of this transport here", worth trying the other one.
_WRONG_TRANSPORT_STATUSES = frozenset({400, 404, 405, 406})
_REASONS = {429: "too many requests", 502: "bad gateway", 503: "unavailable", 504: "timeout"}


@dataclass(frozen=True)
class Diagnosis:
    outcome: Outcome
    error: str
    http_status: int | None = None
    # The endpoint may speak the other transport (Streamable HTTP vs legacy SSE).
    try_other_transport: bool = False


def seconds(value: float) -> str:
    return f"{value:g} s"


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, in order."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _first(errors: list[BaseException], kind: type | tuple[type, ...]):
    return next((e for e in errors if isinstance(e, kind)), None)


def _tls_reason(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the certificate is not valid ({error.verify_message})"
    return error.reason or str(error)


def _connect_failure(error: httpx2.ConnectError) -> Diagnosis:
    chain = _chain(error)
    tls = _first(chain, ssl.SSLError)
    if tls is not None:
        return Diagnosis(Outcome.MISCONFIGURED, f"TLS error: {_tls_reason(tls)}")
    dns = _first(chain, EgressError)
    if dns is not None:
        return Diagnosis(Outcome.UNREACHABLE, str(dns))
    if _first(chain, ConnectionRefusedError) is not None:
        return Diagnosis(Outcome.UNREACHABLE, "connection refused")
    return Diagnosis(Outcome.UNREACHABLE, f"could not connect ({error})")


def _transport_failure(errors: list[BaseException], timeout: float) -> Diagnosis | None:
    refused = _first(errors, EgressRefused)
    if refused is not None:
        return Diagnosis(Outcome.MISCONFIGURED, str(refused))
    too_large = _first(errors, ResponseTooLarge)
    if too_large is not None:
        return Diagnosis(Outcome.MISCONFIGURED, str(too_large))
    late = _first(errors, DeadlineExceeded)
    if late is not None:
        return Diagnosis(Outcome.UNREACHABLE, str(late))
    if _first(errors, (TimeoutError, httpx2.TimeoutException)) is not None:
        return Diagnosis(Outcome.UNREACHABLE, f"timed out after {seconds(timeout)}")
    connect = _first(errors, httpx2.ConnectError)
    if connect is not None:
        return _connect_failure(connect)
    if _first(errors, (httpx2.RemoteProtocolError, httpx2.ReadError)) is not None:
        return Diagnosis(Outcome.UNREACHABLE, "closed the connection without answering")
    return None


def _redirect(answer: Answer) -> Diagnosis:
    why = ""
    try:
        check_url(answer.location)
    except EgressRefused as refused:
        why = f"; that address is refused: {refused}"
    return Diagnosis(
        Outcome.MISCONFIGURED,
        f"redirects to {answer.location}, which is not followed: only redirects within the "
        f"same server are{why}",
        http_status=answer.status,
    )


def _status(answer: Answer) -> Diagnosis:
    status = answer.status
    reason = _REASONS.get(status)
    text = f"answered HTTP {status}" + (f" ({reason})" if reason else "")
    if status >= 500 or status == 429:
        return Diagnosis(Outcome.UNREACHABLE, text, http_status=status)
    return Diagnosis(
        Outcome.MISCONFIGURED,
        f"{text}: no MCP endpoint at this URL",
        http_status=status,
        try_other_transport=status in _WRONG_TRANSPORT_STATUSES,
    )


def _answer_failure(evidence: Evidence, *, optional_get: bool) -> Diagnosis | None:
    for answer in evidence.answers:
        if optional_get and answer.method == "GET":
            continue
        if answer.is_redirect:
            return _redirect(answer)
        if answer.status >= 300:
            return _status(answer)
        if answer.status != 202 and not answer.content_type.startswith(_MCP_CONTENT_TYPES):
            shown = answer.content_type or "no content type"
            return Diagnosis(
                Outcome.MISCONFIGURED,
                f"not an MCP server: answered {shown}",
                http_status=answer.status,
            )
    return None


def _protocol_failure(errors: list[BaseException], *, after_handshake: bool) -> Diagnosis | None:
    mcp_error = _first(errors, MCPError)
    if mcp_error is not None:
        if mcp_error.code == PARSE_ERROR:
            return Diagnosis(
                Outcome.MISCONFIGURED, "not an MCP server: its answer is not valid JSON-RPC"
            )
        if after_handshake:
            text = f"the server answered an error: {mcp_error.message}"
        else:
            text = f"the MCP handshake failed: {mcp_error.message}"
        return Diagnosis(Outcome.MISCONFIGURED, text)
    if _first(errors, (ValidationError, httpx2.SSEError)) is not None:
        return Diagnosis(
            Outcome.MISCONFIGURED, "not an MCP server: its answer does not follow the protocol"
        )
    return None


def diagnose(
    exc: BaseException,
    evidence: Evidence,
    *,
    timeout: float,
    optional_get: bool = False,
    after_handshake: bool = False,
) -> Diagnosis:
    """Why an attempt failed. Never raises; an unexpected error is logged and described.

    `optional_get`: over Streamable HTTP the GET stream is optional (a server may answer 405),
    so its answers say nothing about the endpoint.
    """
    errors = [*leaves(exc), *evidence.errors]
    found = (
        _transport_failure(errors, timeout)
        or _answer_failure(evidence, optional_get=optional_get)
        or _protocol_failure(errors, after_handshake=after_handshake)
    )
    if found is not None:
        return found
    logger.warning("Unclassified health check failure: %r", exc, exc_info=exc)
    return Diagnosis(Outcome.MISCONFIGURED, f"the check failed: {type(exc).__name__}: {exc}")
