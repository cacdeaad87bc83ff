"""Celery tasks of the audit trail and usage logs: thin, they take ids and call one service.
(The exports', digests' and retention's tasks are the reports app's, reports/tasks.py.)"""

from celery import shared_task

from orgconnectors.audit import chain, usage

# Soft and hard time limits on every task (see oauth/tasks.py). Rollups work in batches of
# their own and pick up where they stopped at the next beat.
LONG = {"soft_time_limit": 1800, "time_limit": 1860}


@shared_task(name="audit.usage_rollup", ignore_result=True, **LONG)
def usage_rollup() -> int:
    return usage.usage_rollup()


# Runs every 60 s (a safety net for events whose process died before sealing them): it ends
# well before the next run, so two never overlap for long (each seal locks its chain head).
@shared_task(name="audit.chain_seal", ignore_result=True, soft_time_limit=50, time_limit=55)
def chain_seal() -> int:
    return chain.chain_seal_all()
