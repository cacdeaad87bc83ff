"""Key rotation as long work that the operator follows: one KeyRotation row per run.

A run is asked for in the admin (a Celery worker does it) or by `rotate_encryption_keys` (done
in the command's own process), and only one is queued or running at a time. Its worker claims
the row with a lease, renewed at every batch; a run whose worker died is claimed again when its
task is delivered again (or given up when another run is asked for), and a second delivery of a
run that is done or held by a live worker does nothing. The secrets themselves are rewritten by
`secrets_reencrypt`, in short transactions of its own, never inside one long one.

Key rotation concerns every organization at once while the audit trail is per organization, so
it is logged (who, from where, the key's fingerprint, the counts; never a key or a secret) and
the run's row is its record.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, transaction
from django.utils import timezone

from orgconnectors.core.actor import Actor
from orgconnectors.encryption import DecryptionFailed, key_fingerprint
from orgconnectors.encryption.rotation import secrets_count, secrets_reencrypt
from orgconnectors.oauth.errors import KeyRotationRefused
from orgconnectors.oauth.models import KeyRotation
from orgconnectors.oauth.selectors import key_rotation_active
from orgconnectors.outbox.enqueue import enqueue

logger = logging.getLogger(__name__)

Status, Source = KeyRotation.Status, KeyRotation.Source
BATCH_SIZE = 500
# A batch of 500 rows takes well under a second: a lease this long only runs out when the
# worker is gone.
LEASE = timedelta(minutes=5)
# The task's limits (oauth/tasks.py): the lease is renewed at every batch, so these bound the
# whole run (a million secrets take a few minutes), not one batch.
RUN_SOFT_LIMIT_SECONDS = 3600
RUN_HARD_LIMIT_SECONDS = 3660
# A run no worker has taken by then gives way to the next one asked for.
QUEUED_FOR = timedelta(minutes=10)
WHAT_TO_DO = (
    "Put every key still in use into ORGCONNECTORS_ENCRYPTION_KEYS (the new one first) "
    "and start the rotation again."
)


class _LeaseLost(Exception):
    """Another worker claimed the run after this one's lease ran out."""


def _released(now=None) -> dict:
    """The fields of a run that has ended, its lease let go."""
    return {"finished_at": now or timezone.now(), "lease_until": None, "lease_token": ""}


def _give_up_stale(*, now) -> None:
    """Runs past their lease are marked failed, so that a new one can take their place."""
    stale = KeyRotation.objects.filter(lease_until__lt=now)
    stale.filter(status=Status.QUEUED).update(
        status=Status.FAILED,
        error=f"No worker took this run within {QUEUED_FOR.seconds // 60} minutes; a newer run "
        "took its place.",
        **_released(now),
    )
    stale.filter(status=Status.RUNNING).update(
        status=Status.FAILED,
        error="Its worker stopped before the end; a newer run took its place and rewrote "
        "every secret from the start.",
        **_released(now),
    )


def _refusal() -> KeyRotationRefused:
    active = key_rotation_active()
    if active is None:  # it finished in the meantime
        return KeyRotationRefused("Another key rotation was under way; start again.")
    who = active.requested_by_label or "someone"
    doing = "is waiting for a worker" if active.status == Status.QUEUED else "is running"
    return KeyRotationRefused(
        f"{active} {doing} (asked for by {who} from the {active.get_source_display().lower()}); "
        "wait until it has finished, then start another if it is still needed."
    )


def _create(*, actor: Actor, source: str) -> KeyRotation:
    now = timezone.now()
    try:
        with transaction.atomic():
            _give_up_stale(now=now)
            rotation = KeyRotation.objects.create(
                source=source,
                requested_by=actor.user,
                requested_by_label=actor.display,
                created_at=now,
                lease_until=now + QUEUED_FOR,
            )
    except IntegrityError:  # one_key_rotation_at_a_time
        raise _refusal() from None
    logger.info(
        "key rotation %s asked for by %s from the %s (ip %s)",
        rotation.pk,
        actor.display,
        rotation.get_source_display().lower(),
        actor.ip or "none",
    )
    return rotation


def key_rotation_start(*, actor: Actor) -> KeyRotation:
    """Queue a rotation for a Celery worker (from the admin); refused while another runs."""
    with transaction.atomic():
        rotation = _create(actor=actor, source=Source.WEB)
        enqueue("oauth.key_rotation_run", kwargs={"rotation_id": rotation.pk})
    return rotation


def key_rotation_run_here(
    *,
    actor: Actor,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[str, int], None] | None = None,
) -> KeyRotation:
    """Do a rotation in this process (the command), recorded like one asked for in the admin."""
    rotation = _create(actor=actor, source=Source.COMMAND)
    key_rotation_run(rotation_id=rotation.pk, batch_size=batch_size, on_progress=on_progress)
    rotation.refresh_from_db()
    return rotation


def _claim(rotation_id: int) -> str | None:
    """Take the run (queued, or running past its lease); the lease's token, or None."""
    now = timezone.now()
    token = secrets.token_hex(16)
    claimable = KeyRotation.objects.filter(pk=rotation_id, status=Status.QUEUED) | (
        KeyRotation.objects.filter(pk=rotation_id, status=Status.RUNNING, lease_until__lt=now)
    )
    claimed = claimable.update(
        status=Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        lease_until=now + LEASE,
        lease_token=token,
        key_fingerprint=key_fingerprint(),
        rows_done=0,
    )
    return token if claimed else None


def key_rotation_run(
    *,
    rotation_id: int,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[str, int], None] | None = None,
) -> KeyRotation | None:
    """Rewrite every secret under the first key for this run, recording its progress.

    None when there was nothing to do: the run is finished, or a live worker holds it.
    """
    token = _claim(rotation_id)
    if token is None:
        logger.info("key rotation %s is finished or held by another worker; skipped", rotation_id)
        return None
    held = KeyRotation.objects.filter(pk=rotation_id, status=Status.RUNNING, lease_token=token)
    counts = [{"kind": kind, "total": total, "done": 0} for kind, total in secrets_count()]
    by_kind = {entry["kind"]: entry for entry in counts}
    held.update(counts=counts, rows_total=sum(entry["total"] for entry in counts))
    logger.info(
        "key rotation %s re-encrypting %s rows under key %s",
        rotation_id,
        sum(entry["total"] for entry in counts),
        key_fingerprint(),
    )

    def progress(kind: str, done: int) -> None:
        by_kind[kind]["done"] = done
        now = timezone.now()
        renewed = held.update(
            counts=counts,
            rows_done=sum(entry["done"] for entry in counts),
            heartbeat_at=now,
            lease_until=now + LEASE,
        )
        if not renewed:
            raise _LeaseLost
        if on_progress is not None:
            on_progress(kind, done)

    try:
        rewritten = secrets_reencrypt(batch_size=batch_size, on_progress=progress)
    except SoftTimeLimitExceeded:
        error = (
            "Stopped: the run took longer than its time limit. Start the rotation again; "
            "secrets already rewritten stay readable under the new key."
        )
        held.update(status=Status.FAILED, error=error, **_released())
        logger.warning("key rotation %s stopped at its time limit", rotation_id)
        return KeyRotation.objects.get(pk=rotation_id)
    except _LeaseLost:
        logger.warning("key rotation %s was claimed by another worker; this one stops", rotation_id)
        return None
    except DecryptionFailed as failure:
        error = f"Stopped: {failure}. {WHAT_TO_DO}"
        held.update(status=Status.FAILED, error=error[:500], **_released())
        logger.warning("key rotation %s failed: %s", rotation_id, failure)
        return KeyRotation.objects.get(pk=rotation_id)
    # Rows added since the count were rewritten too: the totals become what was rewritten.
    for kind, total in rewritten.items():
        by_kind[kind].update(total=total, done=total)
    total = sum(rewritten.values())
    ended = held.update(
        status=Status.DONE, counts=counts, rows_total=total, rows_done=total, **_released()
    )
    if not ended:
        logger.warning("key rotation %s was claimed by another worker at its end", rotation_id)
        return None
    logger.info(
        "key rotation %s done: %s rows under key %s (%s)",
        rotation_id,
        total,
        key_fingerprint(),
        ", ".join(f"{kind} {count}" for kind, count in rewritten.items()),
    )
    return KeyRotation.objects.get(pk=rotation_id)
