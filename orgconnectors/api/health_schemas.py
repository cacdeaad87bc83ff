"""Bodies of the health check operations, and the `health` object of a connector.

Apart from schemas.py, which imports ConnectorHealthOut from here (so nothing here imports it).
"""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from orgconnectors.connectors.models import Connector
from orgconnectors.health.models import HealthCheck, HealthRun
from orgconnectors.health.outcomes import Outcome
from orgconnectors.health.selectors import RunProgress

OutcomeName = Literal[tuple(o.value for o in Outcome)]
RunKindName = Literal[tuple(HealthRun.Kind.values)]


class ConnectorHealthOut(Schema):
    outcome: OutcomeName | None = Field(
        description="What the latest check found; null until the first check. The connector's "
        "`status` is what it adds up to: one failure is a blip, three in a row are `down`."
    )
    latency_ms: int | None = Field(description="How long the latest check took.")
    protocol_version: str = Field(description="Negotiated at the last successful handshake.")
    server_name: str
    server_version: str
    last_error: str = Field(description="What went wrong at the latest check, in words.")
    down_since: datetime | None
    consecutive_failures: int


def connector_health_fields(connector: Connector) -> dict[str, Any]:
    return {
        # Annotated by health/selectors.py; a connector fresh from connector_register has none.
        "outcome": getattr(connector, "last_outcome", None),
        "latency_ms": connector.last_latency_ms,
        "protocol_version": connector.protocol_version,
        "server_name": connector.server_name,
        "server_version": connector.server_version,
        "last_error": connector.last_error,
        "down_since": connector.down_since,
        "consecutive_failures": connector.consecutive_failures,
    }


class HealthRunStartedOut(Schema):
    run_id: int = Field(description="Follow it at GET /api/v1/orgs/{org}/health-runs/{run_id}.")


class HealthCheckOut(Schema):
    connector_id: int
    connector_name: str
    checked_at: datetime
    outcome: OutcomeName
    latency_ms: int | None
    error: str = Field(description="What went wrong, in words; empty when nothing did.")
    protocol_version: str
    server_name: str
    server_version: str
    tool_count: int | None = Field(description="Tools listed; null when they could not be.")
    notes: list[str]
    oauth: dict[str, Any] = Field(
        description="For auth_required: the protected resource metadata (RFC 9728) as "
        "`resource_metadata`, where it was found, and the `scope` the 401 asked for."
    )

    @staticmethod
    def resolve_connector_name(check: HealthCheck) -> str:
        return check.connector.name


class HealthRunOut(Schema):
    id: int
    kind: RunKindName = Field(description="`one`: Check now; `all`: Check all.")
    total: int = Field(description="Connectors to check.")
    done: int = Field(description="Connectors checked so far.")
    finished: bool
    created_at: datetime
    finished_at: datetime | None
    results: list[HealthCheckOut] = Field(description="The checks done so far, newest first.")

    @staticmethod
    def resolve_id(progress: RunProgress) -> int:
        return progress.run.pk

    @staticmethod
    def resolve_kind(progress: RunProgress) -> str:
        return progress.run.kind

    @staticmethod
    def resolve_total(progress: RunProgress) -> int:
        return progress.run.total

    @staticmethod
    def resolve_done(progress: RunProgress) -> int:
        return progress.run.done

    @staticmethod
    def resolve_created_at(progress: RunProgress) -> datetime:
        return progress.run.created_at

    @staticmethod
    def resolve_finished_at(progress: RunProgress) -> datetime | None:
        return progress.run.finished_at

    @staticmethod
    def resolve_results(progress: RunProgress) -> list[HealthCheck]:
        return progress.checks
