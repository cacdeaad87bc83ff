"""The periodic work of the audit trail and usage logs: the one place its beat intervals are set.

settings.py merges AUDIT_BEAT_SCHEDULE into CELERY_BEAT_SCHEDULE. Nothing here imports Django
models, so settings can import it.
"""

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
}
