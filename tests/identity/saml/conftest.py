import httpx
import pytest
from django.test import Client
from django.utils import timezone

from orgconnectors.core.actor import Actor
from orgconnectors.identity.models import ClaimedDomain
from orgconnectors.identity.sso_settings import sso_configure
from tests.peers.saml_idp import PostedForm, posted_form, start_saml_idp

# python3-saml refuses single-label host names (Django's "testserver") in its own URLs: the
# browser speaks to the configured base URL's host, as in production.
HOST = "127.0.0.1:8000"
BASE = f"http://{HOST}"


@pytest.fixture
def saml_idp():
    """pysaml2's identity provider on loopback, with a key and certificate made for this test."""
    peer = start_saml_idp()
    yield peer
    peer.stop()


@pytest.fixture
def browser():
    return Client(HTTP_HOST=HOST)


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
def saml_sso(org, owner, acme_domain, saml_idp, browser):
    """Acme (which has verified acme.test) signs in through the loopback IdP, configured by its
    owner from the IdP's metadata URL; the IdP trusts Acme's service provider (as an
    administrator sets it up from our metadata)."""
    sso = sso_configure(
        organization=org,
        protocol="saml",
        metadata_url=saml_idp.metadata_url,
        default_role="member",
        actor=Actor(user=owner.user),
    )
    ours = browser.get(f"/accounts/saml/{org.slug}/metadata/")
    assert ours.status_code == 200, ours.content
    saml_idp.trust_sp(ours.content.decode())
    return sso


def sign_in_request(browser, slug: str = "acme") -> str:
    """Start at our SAML login (a POST: allauth does not start a sign-in on a GET); the URL of
    the identity provider it redirects to, carrying the AuthnRequest."""
    response = browser.post(f"/accounts/saml/{slug}/login/")
    assert response.status_code == 302, response.content
    location = response.headers["Location"]
    assert "/sso/redirect?SAMLRequest=" in location
    return location


def idp_answer(url: str) -> PostedForm:
    """What the identity provider's auto-submitting form posts back."""
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200, page.text
    return posted_form(page.text)


def post_to_acs(browser, form: PostedForm):
    assert form.action.startswith(BASE)
    return browser.post(form.action.removeprefix(BASE), form.data(), follow=True)
