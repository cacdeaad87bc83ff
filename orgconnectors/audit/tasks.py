"""Celery tasks of the audit trail and usage logs: thin, they take ids and call one service."""

from celery import shared_task

from orgconnectors.audit import chain, digests, exports, retention, usage


@shared_task(name="audit.usage_rollup", ignore_result=True)
def usage_rollup() -> int:
    return usage.usage_rollup()


@shared_task(name="audit.retention_purge", ignore_result=True)
def retention_purge() -> int:
    purged = retention.audit_retention_purge()
    return purged.audit_events + purged.usage_events


# No automatic retry: a failed export is marked failed and the person exports again.
@shared_task(name="audit.export_run", ignore_result=True)
def export_run(*, job_id: int) -> int:
    return exports.export_job_run(job_id=job_id)


@shared_task(name="audit.exports_expire", ignore_result=True)
def exports_expire() -> int:
    return exports.exports_expire()


@shared_task(name="audit.digests_publish", ignore_result=True)
def digests_publish() -> int:
    return digests.audit_digests_publish()


@shared_task(name="audit.chain_seal", ignore_result=True)
def chain_seal() -> int:
    return chain.chain_seal_all()
