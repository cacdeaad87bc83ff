"""The periodic work of health checks: the one place its beat intervals are set.

settings.py sets CELERY_BEAT_SCHEDULE from HEALTH_BEAT_SCHEDULE. Nothing here imports Django models,
so settings can import it.
"""

from celery.schedules import crontab

HEALTH_BEAT_SCHEDULE = {
    # Each connector has its own interval (5 minutes by default, longer while failing); the
    # sweep only picks the ones that are due. Every 30 s keeps a check at most 30 s late,
    # and a sweep with nothing due costs one indexed query. A sweep that finds a full batch
    # enqueues another, so a large backlog spreads over every worker rather than waiting.
    "health-sweep": {
        "task": "health.sweep",
        "schedule": 30.0,
        "options": {"expires": 25},  # a sweep still queued when the next one fires is moot
    },
    # Folds checks older than the retention into daily rollups. Idempotent, so hourly is only
    # about promptness: a day leaves the detailed history within an hour of turning 7 days
    # old, and a missed run is caught up by the next. Off the hour, away from other jobs.
    "health-rollup": {
        "task": "health.rollup",
        "schedule": crontab(minute=17),
    },
}
