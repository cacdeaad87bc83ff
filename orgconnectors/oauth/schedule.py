"""The periodic work of member OAuth: the one place its beat intervals are set.

settings.py merges OAUTH_BEAT_SCHEDULE into CELERY_BEAT_SCHEDULE. Nothing here imports Django
models, so settings can import it.
"""

from celery.schedules import crontab

OAUTH_BEAT_SCHEDULE = {
    # Credentials are due at ~75% of their lifetime and at least 5 minutes before expiry, so a
    # sweep every 30 s refreshes each well in time; with nothing due it costs one indexed query.
    "oauth-refresh-sweep": {
        "task": "oauth.refresh_sweep",
        "schedule": 30.0,
        "options": {"expires": 25},  # a sweep still queued when the next one fires is moot
    },
    # Revocations whose first attempt failed (the server was down) are tried again hourly.
    "oauth-revocation-retry": {
        "task": "oauth.revocations_retry",
        "schedule": crontab(minute=41),
    },
    # Authorization requests live 10 minutes; the unanswered ones are removed once a day.
    "oauth-purge-pending": {
        "task": "oauth.purge_pending_authorizations",
        "schedule": crontab(hour=3, minute=23),
    },
}
