"""The periodic work of the outbox: the one place its beat intervals are set.

settings.py merges OUTBOX_BEAT_SCHEDULE into CELERY_BEAT_SCHEDULE. Nothing here imports Django
models, so settings can import it.
"""

from celery.schedules import crontab

OUTBOX_BEAT_SCHEDULE = {
    # Tasks are published right after their commit; the relay only sends what the broker
    # refused then (it was down) or what a process that died left behind. Every 5 s keeps a
    # task at most a few seconds late once the broker is back; with nothing pending it costs
    # one indexed query.
    "outbox-relay": {
        "task": "outbox.relay",
        "schedule": 5.0,
        "options": {"expires": 4},  # a relay still queued when the next one fires is moot
    },
    # Sent rows are kept a day, to see what was sent; past that they go.
    "outbox-purge": {
        "task": "outbox.purge",
        "schedule": crontab(minute=41),
    },
}
