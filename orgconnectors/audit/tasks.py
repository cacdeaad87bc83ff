"""Celery tasks of the audit trail and usage logs: thin, they take ids and call one service."""

from celery import shared_task

from orgconnectors.audit import chain, digests, exports, retention, usage

# Soft and hard time limits on every task (see oauth/tasks.py). Purges and rollups work in
# batches of their own and pick up where they stopped at the next beat.
LONG = {"soft_time_limit": 1800, "time_limit": 1860}


@shared_task(name="audit.usage_rollup", ignore_result=True, **LONG)
def usage_rollup() -> int:
    return usage.usage_rollup()


@shared_task(name="audit.retention_purge", ignore_result=True, **LONG)
def retention_purge() -> int:
    purged = retention.audit_retention_purge()
    return purged.audit_events + purged.usage_events


# No automatic retry: a failed export is marked failed and the person exports again. Its
# limits end it well inside its lease (exports.STALE_AFTER); at the soft one it is marked
# failed and its partial file removed.
@shared_task(
    name="audit.export_run",
    ignore_result=True,
    soft_time_limit=exports.EXPORT_SOFT_LIMIT_SECONDS,
    time_limit=exports.EXPORT_HARD_LIMIT_SECONDS,
)
def export_run(*, job_id: int) -> int:
    return exports.export_job_run(job_id=job_id)


@shared_task(name="audit.exports_expire", ignore_result=True, **LONG)
def exports_expire() -> int:
    return exports.exports_expire()


@shared_task(name="audit.digests_publish", ignore_result=True, **LONG)
def digests_publish() -> int:
    return digests.audit_digests_publish()


# Runs every 60 s (a safety net for events whose process died before sealing them): it ends
# well before the next run, so two never overlap for long (each seal locks its chain head).
@shared_task(name="audit.chain_seal", ignore_result=True, soft_time_limit=50, time_limit=55)
def chain_seal() -> int:
    return chain.chain_seal_all()
