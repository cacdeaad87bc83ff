"""Recording one health check: its history row, the connector's state, the audit of what
changed, usage, and the owners' email.

Each result is recorded in its own short transaction, only while the batch that probed it still
holds its lease (the connector's next_check_at as the claim wrote it).
"""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record
from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.tool_definitions import listing_digest
from orgconnectors.connectors.tool_drift import tool_listing_observed
from orgconnectors.core.actor import Actor
from orgconnectors.core.metrics import health_check_counted
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.health.models import HealthCheck, HealthRun
from orgconnectors.health.outcomes import ProbeResult
from orgconnectors.health.transitions import Health, next_check_at, next_health, should_notify
from orgconnectors.oauth.issuer_pins import preregistered_issuer_observed
from orgconnectors.outbox.enqueue import enqueue

logger = logging.getLogger(__name__)

HEALTH_ACTOR = Actor.system("health check")


def _apply(connector: Connector, result: ProbeResult, health: Health, now) -> list[str]:
    connector.status = health.status
    connector.consecutive_failures = health.consecutive_failures
    connector.down_since = health.down_since
    connector.last_checked_at = now
    connector.last_error = result.error[:500]
    connector.last_latency_ms = result.latency_ms
    connector.next_check_at = next_check_at(
        now, connector.check_interval_seconds, health.consecutive_failures
    )
    fields = [
        "status", "consecutive_failures", "down_since", "last_checked_at", "last_error",
        "last_latency_ms", "next_check_at",
    ]  # fmt: skip
    if result.transport:
        connector.detected_transport = result.transport
        fields.append("detected_transport")
    if result.protocol_version:  # the handshake succeeded: what the server said about itself
        connector.protocol_version = result.protocol_version
        connector.server_name = result.server_name
        connector.server_version = result.server_version
        connector.capabilities = result.capabilities
        fields += ["protocol_version", "server_name", "server_version", "capabilities"]
    if result.tools_listed:
        connector.discovered_tools = result.tools
        connector.discovered_digest = listing_digest(result.tools)
        fields += ["discovered_tools", "discovered_digest"]
    return fields


def run_progress_count(run_id: int, done: int, now) -> None:
    HealthRun.objects.filter(pk=run_id).update(done=F("done") + done)
    HealthRun.objects.filter(pk=run_id, finished_at__isnull=True, done__gte=F("total")).update(
        finished_at=now
    )


@retry_on_conflict
def health_result_record(
    *,
    connector_id: int,
    result: ProbeResult,
    run_id: int | None = None,
    now=None,
    lease_until: datetime | None = None,
) -> HealthCheck | None:
    """Record one check: history row, connector state, audit of changes, owners' email.

    Returns None when there is nothing to record: the connector was removed while it was
    being checked, this run already recorded it (a task delivered twice), or the batch's
    lease (`lease_until`, the next_check_at its claim wrote) ran out or was taken over.
    """
    now = now or timezone.now()
    with transaction.atomic():
        connector = (
            Connector.objects.select_for_update(of=("self",))
            .select_related("organization")
            .filter(pk=connector_id)
            .first()
        )
        if connector is None:
            if run_id is not None:
                run_progress_count(run_id, 1, now)
            return None
        if (
            run_id is not None
            and HealthCheck.objects.filter(run_id=run_id, connector=connector).exists()
        ):
            return None
        if lease_until is not None and (
            connector.next_check_at != lease_until or lease_until <= timezone.now()
        ):
            # Another worker may be checking it now: its result, not this late one, counts.
            logger.warning(
                "health check of connector %s discarded: its batch's lease ran out", connector_id
            )
            if run_id is not None:
                run_progress_count(run_id, 1, now)
            return None
        before_status, before_error = connector.status, connector.last_error
        health = next_health(
            Health(connector.status, connector.consecutive_failures, connector.down_since),
            result.outcome,
            now=now,
        )
        fields = _apply(connector, result, health, now)
        connector.save(update_fields=fields)
        notes = [*result.notes, *_issuer_notes(connector, result)]
        check = HealthCheck.objects.create(
            connector=connector,
            organization_id=connector.organization_id,
            run_id=run_id,
            checked_at=now,
            outcome=result.outcome.value,
            error=result.error[:500],
            latency_ms=result.latency_ms,
            transport=result.transport,
            protocol_version=result.protocol_version,
            server_name=result.server_name,
            server_version=result.server_version,
            tool_count=len(result.tools) if result.tools_listed else None,
            notes=notes,
            oauth=result.oauth,
        )
        if run_id is not None:
            run_progress_count(run_id, 1, now)
        if result.tools_listed and not result.tools_truncated:
            # The listing this check already fetched: compared with the approved one, no request.
            # A cut listing is not: the tools past the cut would read as removed.
            tool_listing_observed(
                connector=connector, listed=result.tools, actor=HEALTH_ACTOR, now=now
            )
        if health.status != before_status:
            changes = {"status": {"before": before_status, "after": health.status}}
            if before_error != connector.last_error:
                changes["error"] = {"before": before_error, "after": connector.last_error}
            _audit(connector, action="connector.health_changed", changes=changes)
            usage_record(
                organization=connector.organization_id,
                kind="health",
                connector=connector,
                details={"before": before_status, "after": health.status},
            )
            if should_notify(before_status, health.status):
                _notify_on_commit(connector.pk, before_status, health.status)
    health_check_counted(outcome=check.outcome, latency_ms=check.latency_ms)
    return check


def _issuer_notes(connector: Connector, result: ProbeResult) -> list[str]:
    """An owner's OAuth client whose server now names another authorization server: say
    that an owner must confirm it (the connector page offers to)."""
    if connector.auth != Connector.Auth.OAUTH or not connector.oauth_client_id:
        return []
    metadata = (result.oauth or {}).get("resource_metadata") or {}
    note = preregistered_issuer_observed(
        connector=connector,
        authorization_servers=metadata.get("authorization_servers") or [],
        actor=HEALTH_ACTOR,
    )
    return [note] if note else []


def _audit(connector: Connector, *, action: str, changes: dict) -> None:
    audit_record(
        organization=connector.organization,
        actor=HEALTH_ACTOR,
        action=action,
        target=connector,
        changes=changes,
    )


def _notify_on_commit(connector_id: int, before: str, after: str) -> None:
    enqueue(
        "health.notify_owners",
        kwargs={"connector_id": connector_id, "before": before, "after": after},
    )
