"""The probe engine: what orgconnectors does to an MCP server to learn whether it works.

Pure async, no Django: it gets a target, a pooled httpx2 client (built by `pool.py`, behind the
egress guard) and a config, and returns a `ProbeResult`. It speaks the real protocol through
the official SDK client: Streamable HTTP first (or what worked last time), legacy HTTP+SSE as
the fallback, `mode="auto"` negotiation (2026-07-28 `server/discover`, else `initialize`),
then every page of `tools/list`.
"""

import time
from dataclasses import dataclass, field

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.auth.utils import (
    build_protected_resource_metadata_discovery_urls,
    extract_resource_metadata_from_www_auth,
    extract_scope_from_www_auth,
)
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import ValidationError

from orgconnectors.connectors import tool_definitions
from orgconnectors.egress import EgressError, EgressRefused, afollow_redirects_safely, check_url
from orgconnectors.egress.borrowed import Borrowed
from orgconnectors.health.bearer import bearer_for
from orgconnectors.health.diagnosis import Diagnosis, diagnose, seconds
from orgconnectors.health.evidence import Answer, Evidence, start_recording
from orgconnectors.health.outcomes import Outcome, ProbeResult

STREAMABLE_HTTP = "streamable_http"
SSE = "sse"
# MCP asks for tool names of at most 128 characters; a longer one is not cut (it would name
# another tool) but left out.
MAX_TOOL_NAME = 128
TRANSPORTS = (STREAMABLE_HTTP, SSE)

NOTE_TOOLS_ONLY = (
    "The server also offers {what}; the API connector uses only its tools, so members will "
    "not see them."
)
NOTE_NO_TOOLS = "The server offers no tools, so the API connector has nothing to use on it."


class ListingStopped(Exception):
    """The tool list cannot be read to its end; the message says why."""


@dataclass(frozen=True)
class ProbeTarget:
    url: str
    transport: str = "auto"  # the owner's choice: auto, streamable_http or sse
    detected_transport: str = ""  # what answered last time, tried first
    # An OAuth server's: an owner's own token, read from the vault just before the probe.
    access_token: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class ProbeConfig:
    timeout: float = 10.0  # the whole check, every attempt and page included
    slow_ms: int = 2000
    max_tool_pages: int = 50
    max_tools: int = 2000
    client_name: str = "orgconnectors-health"
    client_version: str = "0.1"


def transports_to_try(target: ProbeTarget) -> list[str]:
    if target.transport in TRANSPORTS:
        return [target.transport]
    first = target.detected_transport if target.detected_transport in TRANSPORTS else None
    first = first or STREAMABLE_HTTP
    return [first, SSE if first == STREAMABLE_HTTP else STREAMABLE_HTTP]


@dataclass
class _Attempt:
    transport: str
    evidence: Evidence
    started: float = field(default_factory=time.monotonic)
    result: ProbeResult | None = None  # set once the handshake succeeded
    partial: BaseException | None = None  # what broke after the handshake
    completed_ms: int | None = None  # set once everything was read

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


def _open(transport: str, url: str, http: httpx2.AsyncClient, config: ProbeConfig):
    if transport == SSE:
        return sse_client(
            url,
            timeout=config.timeout,
            sse_read_timeout=config.timeout,
            httpx_client_factory=lambda headers=None, timeout=None, auth=None: Borrowed(http),
        )
    return streamable_http_client(url, http_client=http)


def _tool(tool: types.Tool) -> dict:
    """The definition as the server lists it, verbatim (owners approve exactly this)."""
    return tool_definitions.definition(
        tool.model_dump(by_alias=True, exclude_none=True, mode="json")
    )


def _kept(tools: list[types.Tool], result: ProbeResult) -> list[dict]:
    kept = []
    for tool in tools:
        if len(tool.name) > MAX_TOOL_NAME:
            result.notes.append(
                f"A tool's name is longer than {MAX_TOOL_NAME} characters; it is left out."
            )
        elif tool_definitions.definition_size(tool.model_dump(by_alias=True, mode="json")) > (
            tool_definitions.MAX_DEFINITION_BYTES
        ):
            result.notes.append(
                f"The definition of “{tool.name}” is larger than "
                f"{tool_definitions.MAX_DEFINITION_BYTES // 1000} KB; it is left out."
            )
        else:
            kept.append(_tool(tool))
    return kept


async def _list_tools(client: Client, config: ProbeConfig, result: ProbeResult) -> list[dict]:
    tools: list[dict] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(config.max_tool_pages):
        page = await client.list_tools(cursor=cursor, cache_mode="bypass")
        tools.extend(_kept(page.tools, result))
        if len(tools) >= config.max_tools:
            result.tools_truncated = True
            result.notes.append(
                f"The server lists more than {config.max_tools} tools; only "
                f"the first {config.max_tools} are kept."
            )
            return tools[: config.max_tools]
        cursor = page.next_cursor
        if not cursor:
            return tools
        if cursor in seen:
            raise ListingStopped("the server repeats a tools/list cursor")
        seen.add(cursor)
    raise ListingStopped(f"the tool list goes on past {config.max_tool_pages} pages")


def _handshake(client: Client, attempt: _Attempt) -> ProbeResult:
    info = client.server_info
    capabilities = client.server_capabilities
    result = ProbeResult(
        outcome=Outcome.HEALTHY,
        transport=attempt.transport,
        protocol_version=client.protocol_version or "",
        server_name=(info.name if info else "")[:200],
        server_version=(info.version if info else "")[:100],
        capabilities=capabilities.model_dump(by_alias=True, exclude_none=True, mode="json"),
    )
    extras = [name for name in ("prompts", "resources") if getattr(capabilities, name)]
    if extras:
        result.notes.append(NOTE_TOOLS_ONLY.format(what=" and ".join(extras)))
    return result


async def _converse(target: ProbeTarget, attempt: _Attempt, http, config: ProbeConfig) -> None:
    client = Client(
        _open(attempt.transport, target.url, http, config),
        mode="auto",
        cache=None,
        read_timeout_seconds=config.timeout,
        client_info=types.Implementation(name=config.client_name, version=config.client_version),
    )
    async with client:
        result = attempt.result = _handshake(client, attempt)
        if client.server_capabilities.tools is None:
            result.tools = []
            result.notes.append(NOTE_NO_TOOLS)
        else:
            try:
                result.tools = await _list_tools(client, config, result)
            except Exception as exc:  # noqa: BLE001 - a server failing here is a result, not a crash
                attempt.partial = exc
                return
        attempt.completed_ms = attempt.elapsed_ms()


def _finish(attempt: _Attempt, config: ProbeConfig, *, error=None) -> ProbeResult:
    """The result of an attempt whose handshake succeeded (`error`: what ended it, if any)."""
    result = attempt.result
    if attempt.completed_ms is not None:
        # Everything was read; trouble while closing the session says nothing about the server.
        result.latency_ms = attempt.completed_ms
        if result.latency_ms > config.slow_ms:
            result.outcome = Outcome.DEGRADED
            result.error = (
                f"slow: the check took {result.latency_ms / 1000:.1f} s, "
                f"more than {config.slow_ms / 1000:g} s"
            )
        return result
    result.latency_ms = attempt.elapsed_ms()
    result.outcome = Outcome.DEGRADED
    problem = attempt.partial or error
    if isinstance(problem, ListingStopped):
        why = str(problem)
    elif problem is not None:
        evidence, timeout = attempt.evidence, config.timeout
        found = diagnose(
            problem, evidence, timeout=timeout, optional_get=True, after_handshake=True
        )
        why = found.error
    else:
        why = f"timed out after {seconds(config.timeout)}"
    result.error = f"listing tools failed: {why}"[:500]
    result.tools = None  # an incomplete list must not replace the known one
    return result


async def _protected_resource_metadata(
    challenge: Answer, url: str, http: httpx2.AsyncClient
) -> tuple[dict, list[str]]:
    """RFC 9728 metadata of a server that answered 401, fetched through the egress guard."""
    www = httpx2.Response(401, headers={"WWW-Authenticate": challenge.www_authenticate})
    notes: list[str] = []
    candidates = build_protected_resource_metadata_discovery_urls(
        extract_resource_metadata_from_www_auth(www), url
    )
    for candidate in candidates:
        try:
            check_url(candidate)
            request = http.build_request("GET", candidate, headers={"Accept": "application/json"})
            response = await afollow_redirects_safely(http, request)
        except (EgressError, httpx2.HTTPError) as exc:
            notes.append(f"Its resource metadata at {candidate} could not be read ({exc}).")
            continue
        if response.status_code != 200:
            continue
        try:
            metadata = ProtectedResourceMetadata.model_validate_json(response.content)
        except ValidationError:
            notes.append(f"Its resource metadata at {candidate} is not valid RFC 9728 metadata.")
            continue
        oauth = {
            "resource_metadata_url": candidate,
            "resource_metadata": metadata.model_dump(mode="json", exclude_none=True),
            "scope": extract_scope_from_www_auth(www) or "",
        }
        if str(metadata.resource).rstrip("/") != url.rstrip("/"):
            notes.append(f"Its metadata names another resource ({metadata.resource}).")
        return oauth, notes
    return {}, notes


async def _auth_required(challenge: Answer, attempt: _Attempt, url: str, http) -> ProbeResult:
    latency_ms = attempt.elapsed_ms()
    oauth, notes = await _protected_resource_metadata(challenge, url, http)
    if not oauth:
        return ProbeResult(
            outcome=Outcome.MISCONFIGURED,
            error="asks for authorization (HTTP 401) but publishes no OAuth protected-resource "
            "metadata, so members cannot authorize",
            latency_ms=latency_ms,
            transport=attempt.transport,
            notes=notes,
            http_status=401,
        )
    return ProbeResult(
        outcome=Outcome.AUTH_REQUIRED,
        latency_ms=latency_ms,
        transport=attempt.transport,
        notes=notes,
        oauth=oauth,
        http_status=401,
    )


async def _try(target, transport, http, config, deadline) -> ProbeResult | Diagnosis:
    attempt = _Attempt(transport=transport, evidence=start_recording())
    failure: BaseException | None = None
    with anyio.move_on_after(max(deadline - time.monotonic(), 0)) as scope:
        try:
            await _converse(target, attempt, http, config)
        except Exception as exc:  # noqa: BLE001 - a server failing is a result, not a crash
            failure = exc
    timed_out = scope.cancelled_caught
    if attempt.result is not None:
        return _finish(attempt, config, error=failure)
    challenge = attempt.evidence.first_answer(status=401)
    if challenge is not None:
        # The metadata is part of the answer; it gets a moment even at the deadline.
        with anyio.fail_after(max(deadline - time.monotonic(), 2.0)):
            return await _auth_required(challenge, attempt, target.url, http)
    if timed_out:
        return Diagnosis(Outcome.UNREACHABLE, f"timed out after {seconds(config.timeout)}")
    return diagnose(
        failure, attempt.evidence, timeout=config.timeout, optional_get=transport != SSE
    )


_TRANSPORT_NAMES = {STREAMABLE_HTTP: "Streamable HTTP", SSE: "legacy HTTP+SSE"}


async def probe(
    target: ProbeTarget, *, http: httpx2.AsyncClient, config: ProbeConfig
) -> ProbeResult:
    """Check one server. Never raises for anything the server does."""
    try:
        check_url(target.url)
    except EgressRefused as refused:
        return ProbeResult(outcome=Outcome.MISCONFIGURED, error=str(refused))
    deadline = time.monotonic() + config.timeout
    failures: list[tuple[str, Diagnosis]] = []
    with bearer_for(target.url, target.access_token):
        for transport in transports_to_try(target):
            try:
                found = await _try(target, transport, http, config, deadline)
            except TimeoutError:
                found = Diagnosis(Outcome.UNREACHABLE, f"timed out after {seconds(config.timeout)}")
            if isinstance(found, ProbeResult):
                return found
            failures.append((transport, found))
            if not found.try_other_transport:
                break
    first = failures[0][1]
    error = first.error
    if len(failures) > 1 and failures[1][1].error != first.error:
        transport, other = failures[1]
        error = f"{first.error}; over {_TRANSPORT_NAMES[transport]}: {other.error}"
    return ProbeResult(outcome=first.outcome, error=error[:500], http_status=first.http_status)
