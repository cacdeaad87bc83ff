"""Celery task durations and failures, from the task signals (defined in core/metrics.py)."""

import time

from celery.signals import task_failure, task_postrun, task_prerun

from orgconnectors.core.metrics import TASK_DURATION, TASK_FAILURES

# Start times by task id, in the process that runs the task (prerun and postrun share it).
_started: dict[str, float] = {}


@task_prerun.connect
def _task_started(task_id=None, **_):
    _started[task_id] = time.monotonic()


@task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **_):
    started = _started.pop(task_id, None)
    if started is not None and task is not None:
        TASK_DURATION.labels(task=task.name, state=state or "UNKNOWN").observe(
            time.monotonic() - started
        )


@task_failure.connect
def _task_failed(sender=None, **_):
    TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()
