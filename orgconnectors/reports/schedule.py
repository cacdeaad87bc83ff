"""The periodic work of the audit trail's reading side: the one place its beat intervals are set.

settings.py merges REPORTS_BEAT_SCHEDULE into CELERY_BEAT_SCHEDULE. Nothing here imports Django
models, so settings can import it. The entries keep the names (and the tasks theirs) they had
when they were the audit app's.
"""

from celery.schedules import crontab

REPORTS_BEAT_SCHEDULE = {
    # Retention is counted in days: once a night is enough, at a quiet hour, in batches.
    "audit-retention-purge": {
        "task": "audit.retention_purge",
        "schedule": crontab(hour=2, minute=47),
    },
    # Export files live 24 hours; removing them within the hour after is soon enough.
    "audit-exports-expire": {
        "task": "audit.exports_expire",
        "schedule": crontab(minute=53),
    },
    # Signed digests of each chain head: an edit made with database access shows up against
    # the last digest before it, so at most an hour of events is unsigned at any time.
    "audit-digests-publish": {
        "task": "audit.digests_publish",
        "schedule": crontab(minute=7),
        "options": {"expires": 50 * 60},  # the next hour's run covers the same events
    },
}
