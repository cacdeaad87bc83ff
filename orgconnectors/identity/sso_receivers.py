"""Connects allauth's "signed in" signal to the single sign-on record (sso_sign_in.py)."""

from allauth.account.signals import user_logged_in
from django.dispatch import receiver

from orgconnectors.core.actor import Actor
from orgconnectors.identity.sso_apps import single_sign_on_for_provider
from orgconnectors.identity.sso_sign_in import sso_signed_in


@receiver(user_logged_in, dispatch_uid="identity.sso_signed_in")
def record_sso_sign_in(sender, request, user, sociallogin=None, **kwargs):
    if sociallogin is None:
        return
    sso = single_sign_on_for_provider(sociallogin.account.provider)
    if sso is None:
        return
    actor = Actor(
        user=user,
        ip=request.META.get("REMOTE_ADDR") or None,
        user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
    )
    sso_signed_in(sso=sso, user=user, actor=actor)
