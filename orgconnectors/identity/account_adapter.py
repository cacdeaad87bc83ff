"""allauth's account adapter, extended with single sign-on: a person in an organization that
requires it can no longer sign in with a password (owners included; they have the operator's
break-glass link). Password reset still works but does not sign anyone in
(ACCOUNT_LOGIN_ON_PASSWORD_RESET stays off), so the new password meets the same refusal."""

from django.core.exceptions import ValidationError

from orgconnectors.accounts.adapter import AccountAdapter as AccountsAdapter
from orgconnectors.identity.require_sso import password_sign_in_refusal


class AccountAdapter(AccountsAdapter):
    def authenticate(self, request, **credentials):
        # Every password check of allauth comes here; the refusal comes only after a right
        # password, so it tells nothing to someone who does not know it. Re-authentication of
        # the person already signed in (through SSO or break-glass; allauth asks for it before
        # two-factor setup) is not a sign-in and is left alone.
        user = super().authenticate(request, **credentials)
        if user is not None and not _is_signed_in_as(request, user):
            refusal = password_sign_in_refusal(user=user)
            if refusal:
                raise ValidationError(refusal, code="sso_required")
        return user


def _is_signed_in_as(request, user) -> bool:
    signed_in = getattr(request, "user", None)
    return bool(signed_in is not None and signed_in.is_authenticated and signed_in.pk == user.pk)
