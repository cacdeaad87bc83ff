"""The periodic work of the gateway's authorization server: the one place its beat interval is
set. settings.py merges it into CELERY_BEAT_SCHEDULE; nothing here imports Django models."""

from celery.schedules import crontab

GATEWAY_AUTHORIZATION_BEAT_SCHEDULE = {
    # Every configuration handed out through the gateway mints tokens that live 15 minutes, and
    # codes and access tokens of OAuth clients expire too: their rows go once a day.
    "gateway-tokens-purge": {
        "task": "gateway.tokens_purge",
        "schedule": crontab(hour=3, minute=47),
    },
}
