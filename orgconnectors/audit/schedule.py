"""The periodic work of the audit trail and usage logs: the one place its beat intervals are set.

settings.py merges AUDIT_BEAT_SCHEDULE into CELERY_BEAT_SCHEDULE. Nothing here imports Django
models, so settings can import it.
"""

from celery.schedules import crontab

AUDIT_BEAT_SCHEDULE = {
    # The usage page adds the events since the last rollup by reading them one by one; every
    # minute keeps that tail to a few minutes of events. With nothing new it costs one query.
    "audit-usage-rollup": {
        "task": "audit.usage_rollup",
        "schedule": 60.0,
        "options": {"expires": 55},  # the next one counts the same events anyway
    },
    # Events are sealed into the hash chain right after their commit; this catches those
    # whose process died in between. With nothing unsealed it costs one indexed query.
    "audit-chain-seal": {
        "task": "audit.chain_seal",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
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
