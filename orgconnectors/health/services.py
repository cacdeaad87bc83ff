"""Health checks, the writing side: claim connectors, probe them, record what was found.

Network work never happens inside a transaction: a batch is claimed in one short transaction
(its next_check_at pushed out by a lease, so no other worker takes it), probed with no
transaction open, and each result is recorded in its own short transaction.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orgconnectors.audit.context import Actor
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record
from orgconnectors.connectors.models import Connector
from orgconnectors.health.models import HealthCheck, HealthRun
from orgconnectors.health.outcomes import ProbeResult
from orgconnectors.health.pool import ProbeRunner, get_runner
from orgconnectors.health.probe import ProbeTarget
from orgconnectors.health.transitions import Health, next_check_at, next_health, should_notify
from orgconnectors.oauth.issuer_pins import preregistered_issuer_observed
from orgconnectors.oauth.refresh import connector_probe_token
from orgconnectors.organizations.models import Organization
from orgconnectors.transactions import retry_on_conflict

logger = logging.getLogger(__name__)

HEALTH_ACTOR = Actor.system("health check")


@dataclass(frozen=True)
class Claimed:
    connector_id: int
    target: ProbeTarget
    oauth: bool = False


@dataclass(frozen=True)
class SweepReport:
    claimed: int
    recorded: int
    more_due: bool  # the batch was full: there may be more to claim right away


def _target(url: str, transport: str, detected_transport: str) -> ProbeTarget:
    return ProbeTarget(url=url, transport=transport, detected_transport=detected_transport)


_TARGET_FIELDS = ("id", "url", "transport", "detected_transport", "auth")


def _claimed(row: tuple) -> Claimed:
    connector_id, url, transport, detected_transport, auth = row
    return Claimed(
        connector_id, _target(url, transport, detected_transport), auth == Connector.Auth.OAUTH
    )


def connectors_claim_due(*, batch_size: int | None = None, now=None) -> list[Claimed]:
    """Take up to `batch_size` due connectors for this worker; others skip the locked rows."""
    now = now or timezone.now()
    batch_size = batch_size or settings.ORGCONNECTORS_PROBE_BATCH_SIZE
    lease = timedelta(seconds=settings.ORGCONNECTORS_PROBE_LEASE_SECONDS)
    with transaction.atomic():
        rows = list(
            Connector.objects.filter(next_check_at__lte=now)
            .order_by("next_check_at", "id")
            .select_for_update(skip_locked=True)
            .values_list(*_TARGET_FIELDS)[:batch_size]
        )
        # If this worker dies mid-batch, the lease runs out and another one checks them.
        Connector.objects.filter(pk__in=[row[0] for row in rows]).update(next_check_at=now + lease)
    return [_claimed(row) for row in rows]


def _with_probe_token(item: Claimed) -> ProbeTarget:
    """An OAuth server is checked with an owner's own token, so the tool list is the one
    members get; without one, the check sees the server's 401. The token is read from the
    vault (refreshed if due) here, in the worker, just before the probe: never a task argument.
    """
    if not item.oauth:
        return item.target
    token = connector_probe_token(connector_id=item.connector_id)
    return replace(item.target, access_token=token) if token else item.target


def _probe_and_record(claimed: list[Claimed], *, runner: ProbeRunner | None, run_id=None) -> int:
    targets = [_with_probe_token(c) for c in claimed]
    results = (runner or get_runner()).probe_many(targets)
    recorded = 0
    for item, result in zip(claimed, results, strict=True):
        if health_result_record(connector_id=item.connector_id, result=result, run_id=run_id):
            recorded += 1
    return recorded


def health_sweep(
    *,
    batch_size: int | None = None,
    runner: ProbeRunner | None = None,
    on_more_due: Callable[[], None] | None = None,
) -> SweepReport:
    """Claim one batch of due connectors, probe them concurrently, record each result.

    `on_more_due` is called as soon as a full batch is claimed, before probing, so another
    worker can claim the next batch while this one probes.
    """
    batch_size = batch_size or settings.ORGCONNECTORS_PROBE_BATCH_SIZE
    claimed = connectors_claim_due(batch_size=batch_size)
    more_due = len(claimed) == batch_size
    if more_due and on_more_due is not None:
        on_more_due()
    recorded = _probe_and_record(claimed, runner=runner) if claimed else 0
    return SweepReport(len(claimed), recorded, more_due=more_due)


def _tool_names(tools) -> list[str]:
    return sorted({t.get("name", "") for t in tools or [] if t.get("name")})


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
        fields.append("discovered_tools")
    return fields


def _count_run_progress(run_id: int, done: int, now) -> None:
    HealthRun.objects.filter(pk=run_id).update(done=F("done") + done)
    HealthRun.objects.filter(pk=run_id, finished_at__isnull=True, done__gte=F("total")).update(
        finished_at=now
    )


@retry_on_conflict
def health_result_record(
    *, connector_id: int, result: ProbeResult, run_id: int | None = None, now=None
) -> HealthCheck | None:
    """Record one check: history row, connector state, audit of changes, owners' email.

    Returns None when there is nothing to record: the connector was removed while it was
    being checked, or this run already recorded it (a task delivered twice).
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
                _count_run_progress(run_id, 1, now)
            return None
        if (
            run_id is not None
            and HealthCheck.objects.filter(run_id=run_id, connector=connector).exists()
        ):
            return None
        before_status, before_error = connector.status, connector.last_error
        before_tools = _tool_names(connector.discovered_tools)
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
            _count_run_progress(run_id, 1, now)
        if result.tools_listed and _tool_names(result.tools) != before_tools:
            _audit(connector, "connector.tools_changed", {
                "tools": {"before": before_tools, "after": _tool_names(result.tools)}
            })  # fmt: skip
        if health.status != before_status:
            changes = {"status": {"before": before_status, "after": health.status}}
            if before_error != connector.last_error:
                changes["error"] = {"before": before_error, "after": connector.last_error}
            _audit(connector, "connector.health_changed", changes)
            usage_record(
                organization=connector.organization_id,
                kind="health",
                connector=connector,
                details={"before": before_status, "after": health.status},
            )
            if should_notify(before_status, health.status):
                _notify_on_commit(connector.pk, before_status, health.status)
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


def _audit(connector: Connector, action: str, changes: dict) -> None:
    audit_record(
        organization=connector.organization,
        actor=HEALTH_ACTOR,
        action=action,
        target_type="connector",
        target_id=connector.pk,
        target_label=connector.name,
        changes=changes,
    )


def _notify_on_commit(connector_id: int, before: str, after: str) -> None:
    from orgconnectors.health import tasks  # tasks import this module

    transaction.on_commit(
        lambda: tasks.notify_owners.delay(connector_id=connector_id, before=before, after=after)
    )


def _start_run(*, organization: Organization, actor: Actor, kind: str, connector_ids: list[int]):
    from orgconnectors.health import tasks  # tasks import this module

    batch = settings.ORGCONNECTORS_PROBE_BATCH_SIZE
    with transaction.atomic():
        run = HealthRun.objects.create(
            organization=organization,
            requested_by=actor.user,
            kind=kind,
            total=len(connector_ids),
            finished_at=None if connector_ids else timezone.now(),
        )
        for start in range(0, len(connector_ids), batch):
            ids = connector_ids[start : start + batch]
            transaction.on_commit(
                lambda ids=ids: tasks.run_batch.delay(run_id=run.pk, connector_ids=ids)
            )
    return run.pk


def health_check_now(*, connector: Connector, actor: Actor) -> int:
    """Check one connector as soon as a worker is free ("Check now"); returns the run's id."""
    return _start_run(
        organization=connector.organization,
        actor=actor,
        kind=HealthRun.Kind.ONE,
        connector_ids=[connector.pk],
    )


def health_check_all(*, organization: Organization, actor: Actor) -> int:
    """Check every connector of the organization ("Check all"); returns the run's id."""
    ids = list(
        Connector.objects.filter(organization=organization)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return _start_run(
        organization=organization, actor=actor, kind=HealthRun.Kind.ALL, connector_ids=ids
    )


def health_run_batch(
    *, run_id: int, connector_ids: list[int], runner: ProbeRunner | None = None
) -> int:
    """Probe part of a requested run. Connectors already recorded for the run are skipped,
    so a redelivered task does not check anything twice."""
    run = HealthRun.objects.filter(pk=run_id).first()
    if run is None or run.finished:
        return 0
    done = set(
        HealthCheck.objects.filter(run_id=run_id, connector_id__in=connector_ids).values_list(
            "connector_id", flat=True
        )
    )
    wanted = [i for i in connector_ids if i not in done]
    now = timezone.now()
    lease = timedelta(seconds=settings.ORGCONNECTORS_PROBE_LEASE_SECONDS)
    with transaction.atomic():
        rows = list(
            Connector.objects.filter(pk__in=wanted, organization_id=run.organization_id)
            .select_for_update()
            .values_list(*_TARGET_FIELDS)
        )
        # Keeps the sweep away from them while this run probes them.
        Connector.objects.filter(pk__in=[row[0] for row in rows]).update(next_check_at=now + lease)
        gone = len(wanted) - len(rows)
        if gone:  # removed since the run was asked for: nothing to check, but counted
            _count_run_progress(run_id, gone, now)
    claimed = [_claimed(row) for row in rows]
    return _probe_and_record(claimed, runner=runner, run_id=run_id) if claimed else 0
