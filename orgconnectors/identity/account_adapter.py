"""allauth's account adapter, extended with single sign-on: a person in an organization that
requires it can no longer sign in with a password (owners included; they have the operator's
break-glass link). Password reset still works but does not sign anyone in
(ACCOUNT_LOGIN_ON_PASSWORD_RESET stays off), so the new password meets the same refusal."""

from django.core.exceptions import ValidationError

from orgconnectors.accounts.adapter import AccountAdapter as AccountsAdapter
from orgconnectors.identity.require_sso import password_sign_in_refusal


class AccountAdapter(AccountsAdapter):
    def authenticate(self, request, **credentials):
        # Every password check of allauth comes here (the sign-in form, re-authentication, the
        # OIDC provider's password grant); a refusal only after a right password, so it tells
        # nothing to someone who does not know it.
        user = super().authenticate(request, **credentials)
        if user is not None:
            refusal = password_sign_in_refusal(user=user)
            if refusal:
                raise ValidationError(refusal, code="sso_required")
        return user
