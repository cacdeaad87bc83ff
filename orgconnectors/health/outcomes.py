"""What one health check found: the outcome vocabulary and the probe's result.

Plain data with no Django in it, so the probe engine can build it in any process or thread.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # answered, but slowly or only in part
    AUTH_REQUIRED = "auth_required"  # reachable; members must authorize (OAuth)
    UNREACHABLE = "unreachable"  # refused, timed out, no DNS, 5xx: may come back by itself
    MISCONFIGURED = "misconfigured"  # not MCP, TLS error, refused by the egress guard

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]

    @property
    def is_failure(self) -> bool:
        return self in FAILURES


OUTCOME_LABELS = {
    Outcome.HEALTHY: "Healthy",
    Outcome.DEGRADED: "Degraded",
    Outcome.AUTH_REQUIRED: "Needs authorization",
    Outcome.UNREACHABLE: "Unreachable",
    Outcome.MISCONFIGURED: "Misconfigured",
}

# A server that answered 401 with OAuth metadata is up: it only waits for a member's token.
FAILURES = frozenset({Outcome.UNREACHABLE, Outcome.MISCONFIGURED})
UP = frozenset(Outcome) - FAILURES


@dataclass
class ProbeResult:
    """Everything one check learned. `error` is a sentence for the owner, never a traceback."""

    outcome: Outcome
    error: str = ""
    latency_ms: int | None = None
    transport: str = ""  # "streamable_http" or "sse": what answered
    protocol_version: str = ""
    server_name: str = ""
    server_version: str = ""
    capabilities: dict = field(default_factory=dict)
    # None: not listed this time (keep what was known); a list: the listing.
    tools: list[dict] | None = None
    # The server listed more tools than a check keeps: `tools` is only the first ones, so it is
    # not compared with the approved listing (connectors/tool_drift.py).
    tools_truncated: bool = False
    notes: list[str] = field(default_factory=list)
    # For auth_required: the protected resource metadata (RFC 9728) and the 401's scope.
    oauth: dict = field(default_factory=dict)
    http_status: int | None = None

    @property
    def tools_listed(self) -> bool:
        return self.tools is not None
