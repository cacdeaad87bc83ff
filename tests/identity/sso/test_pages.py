"""The Sign-in page's single sign-on section, and the login page's "Sign in with single sign-on"
which sends a person to the identity provider of the organization that verified their domain."""

from urllib.parse import urlsplit

import pytest

from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.sso_routing import sso_login_url_for_email
from tests.identity.sso.conftest import CLIENT

pytestmark = pytest.mark.django_db


def test_an_owner_sets_up_openid_connect_on_the_sign_in_page_and_the_secret_is_not_shown(
    client, org, owner, oidc_peer
):
    client.force_login(owner.user)
    page = client.get("/orgs/acme/sign-in/").content.decode()
    assert "Single sign-on" in page
    assert "/accounts/oidc/org-acme/login/callback/" in page
    assert "/accounts/saml/acme/acs/" in page
    saved = client.post(
        "/orgs/acme/sign-in/sso/",
        {
            "protocol": "oidc",
            "issuer": oidc_peer.issuer,
            "client_id": CLIENT.client_id,
            "client_secret": CLIENT.client_secret,
            "default_role": "auditor",
        },
        follow=True,
    )
    body = saved.content.decode()
    assert "Single sign-on is saved." in body
    assert oidc_peer.issuer in body
    assert "a client secret is stored" in body
    assert CLIENT.client_secret not in body
    assert SingleSignOn.objects.get(organization=org).default_role == "auditor"


def test_a_refused_configuration_says_why_on_the_page(client, org, owner):
    client.force_login(owner.user)
    answer = client.post(
        "/orgs/acme/sign-in/sso/",
        {"protocol": "oidc", "issuer": "https://10.9.8.7", "client_id": "x", "client_secret": "y"},
        follow=True,
    )
    assert "Single sign-on is not saved: The issuer URL cannot be used" in (answer.content.decode())
    assert not SingleSignOn.objects.exists()


def test_an_owner_turns_it_off(client, org, owner, acme_sso):
    client.force_login(owner.user)
    answer = client.post("/orgs/acme/sign-in/sso/remove/", follow=True)
    assert "Single sign-on is off" in answer.content.decode()
    assert not SingleSignOn.objects.exists()


def test_the_login_page_offers_single_sign_on_by_email(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with single sign-on" in page
    assert 'action="/sign-in/sso/"' in page


def test_an_address_of_a_verified_domain_is_routed_to_its_organizations_provider(
    org, acme_domain, acme_sso
):
    assert sso_login_url_for_email("Someone@ACME.test") == "/accounts/oidc/org-acme/login/"
    assert sso_login_url_for_email("someone@elsewhere.test") is None
    assert sso_login_url_for_email("not an address") is None


def test_an_unverified_claim_routes_nowhere(org, acme_domain, acme_sso):
    acme_domain.verified_at = None
    acme_domain.save()
    assert sso_login_url_for_email("someone@acme.test") is None


def test_an_address_no_organization_signs_in_with_is_told_to_use_the_password(client, db):
    answer = client.post("/sign-in/sso/", {"email": "someone@example.com"})
    assert answer.status_code == 400
    assert (
        "No organization signs in with single sign-on for example.com; use your password."
        in answer.content.decode()
    )


def test_a_person_signs_in_from_the_login_page_through_their_organizations_provider(
    client, org, acme_domain, acme_sso, oidc_peer
):
    start = client.post("/sign-in/sso/", {"email": "walker@acme.test"})
    # A page that goes on by itself: the CSP's form-action would block a redirect.
    assert start.status_code == 200
    refresh = start["Refresh"]
    assert refresh.startswith(f"0;url={oidc_peer.issuer}/auth?")
    back = urlsplit(oidc_peer.sign_in(refresh.removeprefix("0;url="), "walker@acme.test"))
    done = client.get(f"{back.path}?{back.query}", follow=True)
    assert done.status_code == 200
    assert done.wsgi_request.user.email == "walker@acme.test"
    assert org.memberships.filter(user__email="walker@acme.test", role="member").exists()
