"""Health checks, the writing side: claim connectors, probe them, record what was found.

Network work never happens inside a transaction: a batch is claimed in one short transaction
(its next_check_at pushed out by a lease, so no other worker takes it), probed with no
transaction open, and each result is recorded in its own short transaction.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.audit.usage import usage_record
from orgconnectors.connectors.models import Connector
from orgconnectors.core.actor import Actor
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.health.models import HealthCheck, HealthRun
from orgconnectors.health.outcomes import ProbeResult
from orgconnectors.health.pool import ProbeRunner, get_runner
from orgconnectors.health.probe import ProbeTarget
from orgconnectors.health.transitions import Health, next_check_at, next_health, should_notify
from orgconnectors.oauth.issuer_pins import preregistered_issuer_observed
from orgconnectors.oauth.probe_tokens import connectors_probe_tokens, probe_tokens_phase_seconds
from orgconnectors.ops.metrics import health_check_counted
from orgconnectors.organizations.models import Organization
from orgconnectors.outbox.enqueue import enqueue

logger = logging.getLogger(__name__)

HEALTH_ACTOR = Actor.system("health check")
PROBE_GRACE_SECONDS = 2


def record_margin_seconds() -> float:
    """Kept at the end of a batch's lease for recording its results: no probe starts later
    than this plus one probe's timeout (and its grace) before the lease ends. Recording takes
    milliseconds a connector: 30 s, or a quarter of a short lease."""
    return min(30.0, settings.ORGCONNECTORS_PROBE_LEASE_SECONDS / 4)


def batch_time_limits() -> dict[str, int]:
    """The time limits of a batch's task, both inside its lease: the hard one a sixtieth of
    the lease (at least 2 s; 10 s of the default 600) before it ends, the soft one as much
    again before that. The batch itself stops starting probes earlier still."""
    lease = settings.ORGCONNECTORS_PROBE_LEASE_SECONDS
    step = max(2, lease // 60)
    return {"soft_time_limit": lease - 2 * step, "time_limit": lease - step}


@dataclass(frozen=True)
class Claimed:
    connector_id: int
    target: ProbeTarget
    oauth: bool = False
    # The batch's claim: the connector's next_check_at as the claim wrote it. A result is
    # saved only while the row still says so and that time has not passed.
    lease_until: datetime | None = None


@dataclass(frozen=True)
class SweepReport:
    claimed: int
    recorded: int
    more_due: bool  # the batch was full: there may be more to claim right away


def _target(url: str, transport: str, detected_transport: str) -> ProbeTarget:
    return ProbeTarget(url=url, transport=transport, detected_transport=detected_transport)


_TARGET_FIELDS = ("id", "url", "transport", "detected_transport", "auth")


def _claimed(row: tuple, lease_until: datetime | None = None) -> Claimed:
    connector_id, url, transport, detected_transport, auth = row
    return Claimed(
        connector_id,
        _target(url, transport, detected_transport),
        auth == Connector.Auth.OAUTH,
        lease_until,
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
    return [_claimed(row, now + lease) for row in rows]


def _seconds_left(lease_until: datetime | None) -> float | None:
    """Seconds of the lease left for work, the recording margin kept back; None: no lease."""
    if lease_until is None:
        return None
    return (lease_until - timezone.now()).total_seconds() - record_margin_seconds()


def _with_probe_tokens(claimed: list[Claimed], *, probe_seconds: float) -> list[ProbeTarget | None]:
    """An OAuth server is checked with an owner's own token, so the tool list is the one
    members get; without one, the check sees the server's 401. Tokens are read from the vault
    (the due ones refreshed together, bounded by the lease) here, in the worker, just before
    the probes: never a task argument. None for a connector whose token was not ready in time.
    """
    oauth = [item.connector_id for item in claimed if item.oauth]
    tokens: dict[int, str | None] = {}
    if oauth:
        left = _seconds_left(min((c.lease_until for c in claimed if c.lease_until), default=None))
        wait = probe_tokens_phase_seconds()
        if left is not None:
            wait = min(wait, left - probe_seconds)
        if wait > 0:
            tokens = connectors_probe_tokens(connector_ids=oauth, wait_seconds=wait)
    targets: list[ProbeTarget | None] = []
    for item in claimed:
        if not item.oauth:
            targets.append(item.target)
        elif item.connector_id not in tokens:
            targets.append(None)
        elif token := tokens[item.connector_id]:
            targets.append(replace(item.target, access_token=token))
        else:
            targets.append(item.target)
    return targets


def _release(items: list[Claimed], *, run_id: int | None) -> None:
    """Give back connectors this batch did not get to before its lease's end: due at once,
    for another batch. A run counts them (the sweep checks them next)."""
    now = timezone.now()
    for item in items:
        Connector.objects.filter(pk=item.connector_id, next_check_at=item.lease_until).update(
            next_check_at=now
        )
    if items:
        logger.warning(
            "health batch gave back %s connector(s) unchecked: its lease was near its end",
            len(items),
        )
        if run_id is not None:
            _count_run_progress(run_id, len(items), now)


def _probe_and_record(claimed: list[Claimed], *, runner: ProbeRunner | None, run_id=None) -> int:
    finished: set[int] = set()
    try:
        return _probe_and_record_within(claimed, runner=runner, run_id=run_id, finished=finished)
    except SoftTimeLimitExceeded:
        # A wedged batch at its task's soft limit: what it did not finish is due at once.
        _release([c for c in claimed if c.connector_id not in finished], run_id=run_id)
        return len(finished)


def _probe_and_record_within(
    claimed: list[Claimed], *, runner: ProbeRunner | None, run_id, finished: set[int]
) -> int:
    runner = runner or get_runner()
    probe_seconds = runner.config.timeout + PROBE_GRACE_SECONDS
    targets = _with_probe_tokens(claimed, probe_seconds=probe_seconds)
    ready = [(item, target) for item, target in zip(claimed, targets, strict=True) if target]
    left = _seconds_left(min((c.lease_until for c in claimed if c.lease_until), default=None))
    # No probe starts unless it can end, and be recorded, inside the lease.
    start_by = None if left is None else time.monotonic() + left - probe_seconds
    results = runner.probe_many([target for _, target in ready], start_by=start_by)
    recorded = 0
    unchecked = [item for item, target in zip(claimed, targets, strict=True) if not target]
    for (item, _), result in zip(ready, results, strict=True):
        if result is None:
            unchecked.append(item)
            continue
        if health_result_record(
            connector_id=item.connector_id,
            result=result,
            run_id=run_id,
            lease_until=item.lease_until,
        ):
            recorded += 1
        finished.add(item.connector_id)
    _release(unchecked, run_id=run_id)
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
                _count_run_progress(run_id, 1, now)
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
                _count_run_progress(run_id, 1, now)
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
            _audit(connector, action="connector.tools_changed", changes={
                "tools": {"before": before_tools, "after": _tool_names(result.tools)}
            })  # fmt: skip
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


def _start_run(*, organization: Organization, actor: Actor, kind: str, connector_ids: list[int]):
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
            enqueue("health.run_batch", kwargs={"run_id": run.pk, "connector_ids": ids})
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
    claimed = [_claimed(row, now + lease) for row in rows]
    return _probe_and_record(claimed, runner=runner, run_id=run_id) if claimed else 0
