"""An owner sets up single sign-on with SAML 2.0 on the Sign-in page from a real identity
provider's metadata URL (pysaml2's IdP on loopback), and registers the service provider it shows
there; a person of the organization's verified domain, never seen before, then signs in from the
login page by their work address alone: the identity provider's page posts its signed answer
back by itself, and they land on the dashboard as a member."""

import re
from collections.abc import Iterator

import httpx
import pytest
from allauth.socialaccount.models import SocialAccount
from playwright.sync_api import expect

from orgconnectors.organizations.models import Membership
from tests.e2e import world
from tests.peers.saml_idp import SamlIdp, start_saml_idp

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NEWCOMER = "newcomer@acme.test"


@pytest.fixture
def saml_idp() -> Iterator[SamlIdp]:
    """pysaml2's identity provider on loopback, with a key and certificate made for this test."""
    peer = start_saml_idp()
    yield peer
    peer.stop()


def test_owner_sets_up_saml_and_a_newcomer_of_the_domain_signs_in_through_it(
    browse, live_server, settings, saml_idp
):
    settings.ORGCONNECTORS_BASE_URL = live_server.url
    org = world.organization(slug="acme", name="Acme", plan="enterprise", owner="owner@acme.test")
    world.verified_domain(org, "acme.test")

    owner_tab = browse()
    page = owner_tab.page
    owner_tab.sign_in("owner@acme.test")
    page.goto("/orgs/acme/sign-in/")
    owner_tab.check()
    page.get_by_label("SAML 2.0").check()
    page.get_by_label("Identity provider metadata URL").fill(saml_idp.metadata_url)
    page.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_text("Single sign-on is saved.")).to_be_visible()
    expect(page.get_by_text(f"metadata from {saml_idp.metadata_url}")).to_be_visible()
    owner_tab.check()
    acs_url = page.get_by_label("SAML assertion consumer service (ACS) URL").input_value()
    entity_id = page.get_by_label("SAML service provider entity id and metadata").input_value()
    assert acs_url == f"{live_server.url}/accounts/saml/acme/acs/"
    assert entity_id == f"{live_server.url}/accounts/saml/acme/metadata/"

    # The IdP's administrator registers orgconnectors from the metadata at that entity id.
    ours = httpx.get(entity_id, timeout=10)
    assert ours.status_code == 200, ours.text
    assert f'Location="{acs_url}"' in ours.text
    saml_idp.trust_sp(ours.text)
    # Whom the IdP signs in (it has no sign-in form of its own).
    saml_idp.login_as(NEWCOMER, "Nia", "Newcomer")

    member_tab = browse()
    page = member_tab.page
    member_tab.visit("/accounts/login/")
    page.get_by_label("Work address").fill(NEWCOMER)
    # The page that hands the browser on to the IdP goes on by itself; held once (a 204 leaves
    # the browser where it is) so it is checked, and its link followed.
    sign_in_request = re.compile(re.escape(saml_idp.url) + r"/sso/redirect\?SAMLRequest=")
    page.route(sign_in_request, lambda route: route.fulfill(status=204), times=1)
    page.get_by_role("button", name="Continue with single sign-on").click()
    expect(page.get_by_role("heading", name="Sign in with Acme")).to_be_visible()
    member_tab.check()
    # The IdP answers with its own page, which posts the signed response to our ACS by itself.
    page.get_by_role("link", name="Continue to 127.0.0.1").click()
    expect(page.get_by_text(f"Successfully signed in as {NEWCOMER}.")).to_be_visible()
    member_tab.check()
    # Acme's dashboard, as a member: they joined at this first sign-in.
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + "/orgs/acme/"))
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Your role: Member")

    assert len(saml_idp.requests_seen) == 1
    assert saml_idp.requests_seen[0].issuer.text == entity_id
    membership = Membership.objects.get(organization=org, user__email=NEWCOMER)
    assert membership.role == Membership.Role.MEMBER
    assert SocialAccount.objects.filter(user=membership.user, provider="acme").exists()
