from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from orgconnectors.organizations.services import organization_create_personal


@receiver(user_signed_up)
def give_new_accounts_a_personal_organization(sender, request, user, **kwargs):
    # Someone who signs up on their own is an individual account: an organization of one.
    if not user.memberships.exists():
        organization_create_personal(user=user)
