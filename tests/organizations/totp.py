"""A person's authenticator app, for tests: the current code, and using it the way a person
would, through allauth's pages."""

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt
from django.urls import reverse


def activate_totp(user) -> str:
    """An active TOTP authenticator for the user; returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def current_code(user) -> str:
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    # The middle of allauth's tolerance window is now.
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def confirm_with_totp(client, user):
    """Re-authenticate a signed-in session with the authenticator's code."""
    response = client.post(reverse("mfa_reauthenticate"), {"code": current_code(user)})
    assert response.status_code == 302, response.content
    return response
