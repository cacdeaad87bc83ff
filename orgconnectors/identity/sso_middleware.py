"""Starting a sign-in at an organization's identity provider makes allauth read the provider's
discovery document (or SAML's settings) before it redirects; when the provider cannot be reached
(down, or refused by the egress guard) allauth lets the `requests` error through. This answers it
with the reason (502) instead of a server error. Errors on the way back (the callback) are
answered by the adapter's on_authentication_error."""

import requests
from django.shortcuts import render
from django.urls import resolve
from django.urls.exceptions import Resolver404

from orgconnectors.identity.sso_apps import single_sign_on_for_provider

_PROVIDER_VIEWS = {"openid_connect_login", "saml_login"}


def provider_unreachable(request, organization, exception: Exception):
    """The page that says the organization's identity provider could not be reached, and why."""
    whose = f"{organization.name}'s identity provider" if organization else "The identity provider"
    message = (
        f"{whose} could not be reached: {exception}. Try again in a moment; if it goes on, "
        "ask an owner to check the identity provider's settings on the Sign-in page."
    )
    context = {"message": message, "title": "The identity provider could not be reached"}
    return render(request, "identity/sso_refused.html", context, status=502)


class SsoProviderUnreachable:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, requests.RequestException):
            return None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        if match.url_name not in _PROVIDER_VIEWS:
            return None
        provider_id = match.kwargs.get("provider_id") or match.kwargs.get("organization_slug")
        sso = single_sign_on_for_provider(provider_id) if provider_id else None
        return provider_unreachable(request, sso.organization if sso else None, exception)
