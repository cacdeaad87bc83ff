from allauth.account.internal.flows.login import record_authentication
from allauth.account.signals import user_signed_up
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver

from orgconnectors.organizations.services import organization_create_personal


@receiver(user_signed_up)
def give_new_accounts_a_personal_organization(sender, request, user, **kwargs):
    # Someone who signs up on their own is an individual account: an organization of one.
    if not user.memberships.exists():
        organization_create_personal(user=user)


@receiver(authenticator_added)
def count_activation_as_a_second_factor(sender, request, user, authenticator, **kwargs):
    # Activating TOTP took a valid code from the new authenticator, so this session has just
    # proved the second factor: the pages of an organization that requires it open at once,
    # rather than asking for another code a moment later.
    if request is not None and authenticator.type == Authenticator.Type.TOTP:
        record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
