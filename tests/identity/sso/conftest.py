"""Acme signs in through a real OpenID Connect provider on loopback (Node's oidc-provider, see
tests/peers/oidc_peer.py), and has verified the domain acme.test."""

from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from orgconnectors.core.actor import Actor
from orgconnectors.identity.models import ClaimedDomain
from orgconnectors.identity.sso_settings import sso_configure
from tests.peers.oidc_peer import OidcClient, node_with_oidc_provider, running_oidc_peer

CLIENT = OidcClient(
    client_id="orgconnectors-acme",
    client_secret="acme-client-secret-never-shown",
    redirect_uri="http://testserver/accounts/oidc/org-acme/login/callback/",
)


@pytest.fixture(scope="session")
def oidc_node():
    return node_with_oidc_provider()


@pytest.fixture(scope="module")
def oidc_peer(oidc_node):
    with running_oidc_peer(oidc_node, CLIENT) as peer:
        yield peer


@pytest.fixture
def acme_domain(org):
    return ClaimedDomain.objects.create(
        organization=org,
        domain="acme.test",
        verification_token="t",
        verified_at=timezone.now(),
        verified_by=ClaimedDomain.Method.OPERATOR,
    )


@pytest.fixture
def acme_sso(org, owner, oidc_peer):
    return sso_configure(
        organization=org,
        protocol="oidc",
        issuer=oidc_peer.issuer,
        client_id=CLIENT.client_id,
        client_secret=CLIENT.client_secret,
        default_role="member",
        actor=Actor(user=owner.user),
    )


@pytest.fixture
def sso_sign_in(client, oidc_peer):
    """sso_sign_in(email) -> the answer of orgconnectors' callback, after signing in as
    `email` at the provider (the Django test client keeps the session)."""

    def sign_in(email: str, *, email_verified: bool = True, slug: str = "acme"):
        start = client.post(f"/accounts/oidc/org-{slug}/login/", {"process": "login"})
        assert start.status_code == 302, start.content.decode()[:2000]
        back = oidc_peer.sign_in(start["Location"], email, email_verified=email_verified)
        parts = urlsplit(back)
        return client.get(f"{parts.path}?{parts.query}")

    return sign_in
