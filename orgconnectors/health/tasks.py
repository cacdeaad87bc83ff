"""Celery tasks of health checks: thin, they take ids and call one service each.

Every task is safe to run twice: a sweep only takes connectors it could claim, a run batch
skips connectors its run already recorded, the rollup only folds what is still there.
"""

from smtplib import SMTPException

from celery import shared_task

from orgconnectors.health import notify, rollups, services, tool_changes_notify

# Soft and hard time limits on every task, both inside any lease it works under (see
# oauth/tasks.py). A batch stops starting probes well before its lease ends by itself; the
# soft limit only catches a wedged one, which gives its connectors back.
BATCH = services.batch_time_limits()
QUICK = {"soft_time_limit": 60, "time_limit": 90}


@shared_task(name="health.sweep", ignore_result=True, **BATCH)
def sweep() -> int:
    # A full batch means more are due: let another worker start on them at once.
    report = services.health_sweep(on_more_due=sweep.delay)
    return report.recorded


@shared_task(name="health.run_batch", ignore_result=True, **BATCH)
def run_batch(*, run_id: int, connector_ids: list[int]) -> int:
    return services.health_run_batch(run_id=run_id, connector_ids=connector_ids)


@shared_task(name="health.rollup", ignore_result=True, soft_time_limit=600, time_limit=660)
def rollup() -> int:
    return rollups.health_checks_rollup()


@shared_task(
    name="health.notify_owners",
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=5,
    **QUICK,
)
def notify_owners(*, connector_id: int, before: str, after: str) -> int:
    return notify.health_owners_notify(connector_id=connector_id, before=before, after=after)


@shared_task(
    name="health.notify_tool_changes",
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=5,
    **QUICK,
)
def notify_tool_changes(*, connector_id: int, change_ids: list[int]) -> int:
    return tool_changes_notify.tool_changes_owners_notify(
        connector_id=connector_id, change_ids=change_ids
    )
