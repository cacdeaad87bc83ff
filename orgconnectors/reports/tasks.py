"""Celery tasks of the audit trail's reading side: thin, they take ids and call one service.

They were the audit app's; their names ("audit.…") are kept, as beat schedules and outbox rows
hold them.
"""

from celery import shared_task

from orgconnectors.reports import digests, export_jobs, retention

# Soft and hard time limits on every task (see oauth/tasks.py). Purges work in batches of their
# own and pick up where they stopped at the next beat.
LONG = {"soft_time_limit": 1800, "time_limit": 1860}


@shared_task(name="audit.retention_purge", ignore_result=True, **LONG)
def retention_purge() -> int:
    purged = retention.audit_retention_purge()
    return purged.audit_events + purged.usage_events


# No automatic retry: a failed export is marked failed and the person exports again. Its
# limits end it well inside its lease (export_jobs.STALE_AFTER); at the soft one it is marked
# failed and its partial file removed.
@shared_task(
    name="audit.export_run",
    ignore_result=True,
    soft_time_limit=export_jobs.EXPORT_SOFT_LIMIT_SECONDS,
    time_limit=export_jobs.EXPORT_HARD_LIMIT_SECONDS,
)
def export_run(*, job_id: int) -> int:
    return export_jobs.export_job_run(job_id=job_id)


@shared_task(name="audit.exports_expire", ignore_result=True, **LONG)
def exports_expire() -> int:
    return export_jobs.exports_expire()


@shared_task(name="audit.digests_publish", ignore_result=True, **LONG)
def digests_publish() -> int:
    return digests.audit_digests_publish()
