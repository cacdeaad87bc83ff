"""The periodic work of identity: the one place its beat intervals are set.

settings.py merges IDENTITY_BEAT_SCHEDULE into CELERY_BEAT_SCHEDULE. Nothing here imports Django
models, so settings can import it.
"""

from celery.schedules import crontab

IDENTITY_BEAT_SCHEDULE = {
    # SAML identity providers announce a certificate rollover in their metadata days or weeks
    # ahead; reading it once a day, at a quiet hour, picks the new one up in time.
    "identity-saml-metadata-refresh": {
        "task": "identity.saml_metadata_refresh_all",
        "schedule": crontab(hour=4, minute=17),
        "options": {"expires": 6 * 60 * 60},  # tomorrow's run reads the same metadata
    },
}
