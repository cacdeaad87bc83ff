"""System checks for the audit trail's signing key: a key that cannot be read stops every command;
a production deployment without one is told by `check --deploy` that digests are off."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from orgconnectors.audit.signing import SETTING, SigningKeyInvalid, verifying_keys


@register()
def signing_key_readable(app_configs=None, **kwargs):
    try:
        verifying_keys()
    except SigningKeyInvalid as error:
        return [Error(str(error), id="orgconnectors.E201")]
    return []


@register(Tags.security, deploy=True)
def signing_key_set(app_configs=None, **kwargs):
    if getattr(settings, SETTING, ""):
        return []
    return [
        Warning(
            f"{SETTING} is not set, so the audit trail's signed digests are off (or signed with "
            "the development key): someone who can write the database could rewrite the trail "
            "without it showing.",
            hint="Generate a key with `manage.py publish_audit_digests --new-key` and set it.",
            id="orgconnectors.W201",
        )
    ]
