from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Individual accounts (Free/Pro/Max) sign up themselves; members of an organization come
        # through invitations.
        return getattr(settings, "ORGCONNECTORS_OPEN_SIGNUP", True)
