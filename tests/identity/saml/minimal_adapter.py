"""Until the sso branch's adapter is merged: allauth's apps from SingleSignOn rows, nothing else."""

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp

from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.saml_metadata import saml_app_settings


class Adapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        rows = SingleSignOn.objects.filter(protocol="saml").select_related("organization")
        apps = [
            SocialApp(
                provider="saml",
                provider_id=sso.organization.slug,
                name=sso.organization.name,
                client_id=sso.organization.slug,
                settings=saml_app_settings(sso),
            )
            for sso in rows
        ]
        if provider and provider != "saml":
            apps = [a for a in apps if a.provider_id == provider]
        if client_id:
            apps = [a for a in apps if a.client_id == client_id]
        return apps
