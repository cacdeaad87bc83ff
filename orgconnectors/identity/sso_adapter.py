"""allauth's social account adapter for single sign-on: the organizations' apps (sso_apps.py),
requests through the egress module, and who may sign in through an organization's provider.

The rules, for a sign-in through organization X's identity provider with address A:
- A must be asserted by the provider; with OpenID Connect, `email_verified` must be true unless
  A's domain is one X has verified (X's provider speaks for its own domain).
- An account already linked to this provider login is that person's account.
- Otherwise an existing account with address A is linked only when A's domain is verified by X
  (or the person is signed in to that account already): X's provider cannot take over accounts
  at other domains.
- No account: one is made only for a domain X has verified.
- The person must be a member of X, or in a domain X has verified: then they join X just in
  time (sso_sign_in.py, after the sign-in succeeds).
"""

import functools

from allauth.account.models import EmailAddress
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount import app_settings as socialaccount_settings
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib.auth import get_user_model
from django.shortcuts import render

from orgconnectors.egress.requests_session import build_requests_session
from orgconnectors.identity import sso_apps
from orgconnectors.identity.domains import email_domain
from orgconnectors.identity.sso_selectors import domain_is_verified_for
from orgconnectors.organizations.models import Membership, Organization


class SsoRefused(Exception):
    """A sign-in the rules refuse; the message is for the person."""


def _refuse(request, organization: Organization | None, message: str):
    response = render(
        request,
        "identity/sso_refused.html",
        {"organization": organization, "message": message},
        status=403,
    )
    return ImmediateHttpResponse(response)


def organization_of(sociallogin) -> Organization | None:
    slug = (sociallogin.provider.app.settings or {}).get(sso_apps.ORGANIZATION_SETTING)
    if not slug:
        return None
    return Organization.objects.filter(slug=slug).first()


def asserted_email(sociallogin) -> tuple[str, bool]:
    """The address the provider asserted, lowercased, and whether it says it verified it."""
    for address in sociallogin.email_addresses:
        if address.email:
            return address.email.strip().lower(), bool(address.verified)
    email = (getattr(sociallogin.user, "email", "") or "").strip().lower()
    return email, False


def check_sign_in(request, sociallogin, organization: Organization) -> None:
    """Apply the rules above; link the login to an existing account when they allow it.
    Raises SsoRefused with the reason."""
    email, provider_verified = asserted_email(sociallogin)
    name = organization.name
    if not email or "@" not in email:
        raise SsoRefused(
            f"{name}'s identity provider did not send your email address, so you cannot be "
            "signed in. Ask its administrators to release the email claim or attribute."
        )
    in_domain = domain_is_verified_for(organization=organization, email=email)
    protocol = sociallogin.provider.id
    if protocol == sso_apps.OIDC_PROVIDER and not in_domain and not provider_verified:
        raise SsoRefused(
            f"{name}'s identity provider has not verified {email} (email_verified is not true), "
            "so it cannot be used to sign you in."
        )
    # The provider speaks for the addresses of a domain the organization has verified.
    if in_domain:
        for address in sociallogin.email_addresses:
            address.verified = True
    address_verified = in_domain
    if sociallogin.is_existing:
        user = sociallogin.user
    else:
        User = get_user_model()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = _user_by_verified_address(email)
        if user is not None:
            signed_in_as_them = request.user.is_authenticated and request.user.pk == user.pk
            if not (in_domain or (signed_in_as_them and provider_verified)):
                raise SsoRefused(
                    f"An account for {email} already exists. {email_domain(email)} is not a "
                    f"domain {name} has verified, so its identity provider cannot sign in to "
                    "that account: sign in with your password first, then use single sign-on "
                    "once to link them."
                )
            sociallogin.connect(request, user)
            # Signed in to the account, and the provider has verified the same address.
            address_verified = address_verified or provider_verified
    if address_verified and user is not None and user.pk is not None:
        # The organization's provider speaks for its verified domain, or the person proved both
        # ends: the address is verified (allauth would otherwise stop the sign-in to send a
        # confirmation email).
        EmailAddress.objects.update_or_create(
            user=user, email__iexact=email, defaults={"email": email, "verified": True}
        )
    if user is not None and user.pk is not None:
        if Membership.objects.filter(organization=organization, user=user).exists():
            return
    if not in_domain:
        raise SsoRefused(
            f"{email} is not a member of {name}, and {email_domain(email)} is not a domain "
            f"{name} has verified. Ask an owner of {name} to invite you."
        )


def _user_by_verified_address(email: str):
    address = (
        EmailAddress.objects.filter(email__iexact=email, verified=True)
        .select_related("user")
        .first()
    )
    return address.user if address else None


class SsoAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        return sso_apps.list_apps(provider=provider, client_id=client_id)

    def get_requests_session(self):
        session = build_requests_session()
        # allauth's timeout, as its own session has (the egress deadline bounds the whole
        # request in any case).
        session.request = functools.partial(
            session.request, timeout=socialaccount_settings.REQUESTS_TIMEOUT
        )
        return session

    def pre_social_login(self, request, sociallogin) -> None:
        organization = organization_of(sociallogin)
        if organization is None:
            raise _refuse(request, None, "This sign-in is not set up any more.")
        try:
            check_sign_in(request, sociallogin, organization)
        except SsoRefused as refused:
            raise _refuse(request, organization, str(refused)) from None

    def is_open_for_signup(self, request, sociallogin) -> bool:
        # pre_social_login has refused every address outside a verified domain of the
        # organization: a new account here is for one inside it.
        organization = organization_of(sociallogin)
        email, _verified = asserted_email(sociallogin)
        return organization is not None and domain_is_verified_for(
            organization=organization, email=email
        )

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return True

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        email, _verified = asserted_email(sociallogin)
        if email:
            user.email = email
        return user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        app = getattr(provider, "app", None)
        slug = (app.settings or {}).get(sso_apps.ORGANIZATION_SETTING) if app else None
        organization = Organization.objects.filter(slug=slug).first() if slug else None
        reason = str(exception) if exception else (error or "unknown error")
        raise _refuse(
            request,
            organization,
            f"Single sign-on did not complete: {reason}. Try again, or ask an owner to check "
            "the identity provider's settings on the Sign-in page.",
        )
