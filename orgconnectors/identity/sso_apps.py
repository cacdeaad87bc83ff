"""allauth's apps for single sign-on, built from the organizations' SingleSignOn rows: one
`openid_connect` app (provider id `org-{slug}`) or one `saml` app (its organization slug) per
organization. The apps are never saved: the SocialApp table stays empty, and the client secret is
decrypted only when an app is built for a sign-in."""

from allauth.socialaccount.models import SocialApp
from django.db.models import Q

from orgconnectors.encryption import decrypt
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.saml_metadata import saml_app_settings

OIDC_PROVIDER = "openid_connect"
SAML_PROVIDER = "saml"
OIDC_PREFIX = "org-"
# The organization's slug, in every app's settings, so the adapter knows whose sign-in it is.
ORGANIZATION_SETTING = "orgconnectors_organization"


def oidc_provider_id(slug: str) -> str:
    return f"{OIDC_PREFIX}{slug}"


def provider_id_for(sso: SingleSignOn) -> str:
    """What allauth calls the organization's provider: also SocialAccount.provider of the
    accounts that signed in through it."""
    slug = sso.organization.slug
    return oidc_provider_id(slug) if sso.protocol == SingleSignOn.Protocol.OIDC else slug


def _oidc_app(sso: SingleSignOn) -> SocialApp:
    return SocialApp(
        provider=OIDC_PROVIDER,
        provider_id=oidc_provider_id(sso.organization.slug),
        name=sso.organization.name,
        client_id=sso.client_id,
        secret=decrypt(sso.client_secret_encrypted) if sso.client_secret_encrypted else "",
        settings={
            "server_url": sso.issuer,
            "oauth_pkce_enabled": True,
            ORGANIZATION_SETTING: sso.organization.slug,
        },
    )


def _saml_app(sso: SingleSignOn) -> SocialApp:
    settings = dict(saml_app_settings(sso))
    settings[ORGANIZATION_SETTING] = sso.organization.slug
    return SocialApp(
        provider=SAML_PROVIDER,
        provider_id=sso.organization.slug,
        name=sso.organization.name,
        client_id=sso.organization.slug,
        settings=settings,
    )


def app_for(sso: SingleSignOn) -> SocialApp:
    return _oidc_app(sso) if sso.protocol == SingleSignOn.Protocol.OIDC else _saml_app(sso)


def list_apps(*, provider: str | None = None, client_id: str | None = None) -> list[SocialApp]:
    """The apps allauth asks for: `provider` is a provider (`openid_connect`, `saml`) or one
    app's provider id; `client_id` narrows to one client (SAML looks its app up by slug)."""
    rows = SingleSignOn.objects.select_related("organization")
    if provider == OIDC_PROVIDER:
        rows = rows.filter(protocol=SingleSignOn.Protocol.OIDC)
    elif provider == SAML_PROVIDER:
        rows = rows.filter(protocol=SingleSignOn.Protocol.SAML)
    elif provider:
        match = Q(protocol=SingleSignOn.Protocol.SAML, organization__slug=provider)
        if provider.startswith(OIDC_PREFIX):
            match |= Q(
                protocol=SingleSignOn.Protocol.OIDC,
                organization__slug=provider.removeprefix(OIDC_PREFIX),
            )
        rows = rows.filter(match)
    if client_id:
        # Narrowed in the query, not after: building an app decrypts its secret or parses its
        # metadata, which only the organization signing in needs.
        rows = rows.filter(
            Q(protocol=SingleSignOn.Protocol.OIDC, client_id=client_id)
            | Q(protocol=SingleSignOn.Protocol.SAML, organization__slug=client_id)
        )
    return [app_for(sso) for sso in rows]


def single_sign_on_for_provider(provider_id: str) -> SingleSignOn | None:
    """The SingleSignOn a sign-in came through, by its provider id (SocialAccount.provider)."""
    rows = SingleSignOn.objects.select_related("organization")
    if provider_id.startswith(OIDC_PREFIX):
        sso = rows.filter(
            protocol=SingleSignOn.Protocol.OIDC,
            organization__slug=provider_id.removeprefix(OIDC_PREFIX),
        ).first()
        if sso is not None:
            return sso
    return rows.filter(protocol=SingleSignOn.Protocol.SAML, organization__slug=provider_id).first()
