"""An owner sets up single sign-on with OpenID Connect on the Sign-in page, registering the
redirect URI it shows at a real identity provider (Node's oidc-provider on loopback); a member
then signs in from the login page through it, by their work address alone."""

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from playwright.sync_api import expect

from tests.e2e import world
from tests.peers.oidc_peer import OidcClient, node_with_oidc_provider, running_oidc_peer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET = "e2e-client-secret-never-shown"


@pytest.fixture(scope="module")
def oidc_node():
    return node_with_oidc_provider()


def test_owner_sets_up_openid_connect_and_a_member_signs_in_through_it(
    browse, live_server, settings, oidc_node
):
    settings.ORGCONNECTORS_BASE_URL = live_server.url
    org = world.organization(slug="acme", name="Acme", plan="enterprise", owner="owner@acme.test")
    member = world.person(org, "member@acme.test")
    world.verified_domain(org, "acme.test")

    owner_tab = browse()
    page = owner_tab.page
    owner_tab.sign_in("owner@acme.test")
    page.goto("/orgs/acme/sign-in/")
    owner_tab.check()
    redirect_uri = page.get_by_label("OpenID Connect redirect URI").input_value()
    assert redirect_uri == f"{live_server.url}/accounts/oidc/org-acme/login/callback/"

    # The owner registers orgconnectors at the identity provider with that redirect URI.
    client = OidcClient("orgconnectors", SECRET, redirect_uri)
    with running_oidc_peer(oidc_node, client) as idp:
        page.get_by_label("OpenID Connect", exact=True).check()
        page.get_by_label("Issuer URL").fill(idp.issuer)
        page.get_by_label("Client id").fill(client.client_id)
        page.get_by_label("Client secret").fill(SECRET)
        page.get_by_role("button", name="Save single sign-on").click()
        expect(page.get_by_text("Single sign-on is saved.")).to_be_visible()
        expect(page.get_by_text("a client secret is stored")).to_be_visible()
        owner_tab.check()
        assert SECRET not in page.content()

        member_tab = browse()
        page = member_tab.page
        member_tab.visit("/accounts/login/")
        page.get_by_label("Work address").fill("member@acme.test")
        # The page that hands the browser on to the provider goes on by itself; held once
        # (a 204 leaves the browser where it is) so it is checked, and its link followed.
        authorize = re.compile(re.escape(idp.issuer) + r"/auth\?")
        page.route(authorize, lambda route: route.fulfill(status=204), times=1)
        page.get_by_role("button", name="Continue with single sign-on").click()
        expect(page.get_by_role("heading", name="Sign in with Acme")).to_be_visible()
        member_tab.check()
        page.get_by_role("link", name="Continue to 127.0.0.1").click()
        # The identity provider's own sign-in page.
        expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
        page.get_by_label("Email").fill("member@acme.test")
        page.get_by_role("button", name="Sign in to the identity provider").click()
        expect(page.get_by_text("Successfully signed in as member@acme.test.")).to_be_visible()
        member_tab.check()

    assert SocialAccount.objects.filter(user=member.user, provider="org-acme").exists()
