"""Signing in through a real SAML 2.0 identity provider (pysaml2's, on loopback), SP-initiated:
our login redirects to the IdP with an AuthnRequest, the IdP posts a signed Response to our
ACS. Responses that are unsigned, altered, signed by another key, unsolicited (IdP-initiated)
or answering another browser's request sign nobody in."""

import base64

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

from orgconnectors.audit.models import AuditEvent
from orgconnectors.identity.saml_refresh import saml_metadata_refresh
from orgconnectors.organizations.models import Membership
from tests.identity.saml.conftest import BASE, HOST, idp_answer, post_to_acs, sign_in_request
from tests.peers.saml_idp import PostedForm, posted_form


def signed_in_user_id(browser):
    return browser.session.get("_auth_user_id")


def signed_in_as(browser):
    user_id = signed_in_user_id(browser)
    return get_user_model().objects.get(pk=user_id) if user_id else None


def test_a_member_signs_in_through_the_identity_provider(saml_sso, saml_idp, browser, member):
    saml_idp.login_as("member@acme.test", "Mona", "Member")
    idp_url = sign_in_request(browser)

    response = post_to_acs(browser, idp_answer(idp_url))

    assert response.status_code == 200, response.content.decode()[:2000]
    assert signed_in_as(browser) == member.user
    request = saml_idp.requests_seen[-1]
    # Our AuthnRequest: our entity id, our ACS, an email NameID asked for.
    assert request.issuer.text == f"{BASE}/accounts/saml/acme/metadata/"
    assert request.assertion_consumer_service_url == f"{BASE}/accounts/saml/acme/acs/"
    assert request.name_id_policy.format == NAMEID_FORMAT_EMAILADDRESS
    account = SocialAccount.objects.get(user=member.user)
    assert (account.provider, account.uid) == ("acme", "member@acme.test")
    assert account.extra_data["urn:oid:0.9.2342.19200300.100.1.3"] == ["member@acme.test"]
    assert AuditEvent.objects.filter(organization=member.organization, action="sso.signed_in")


def test_a_person_of_a_verified_domain_joins_at_first_sign_in_with_the_default_role(
    saml_sso, saml_idp, browser, org
):
    saml_sso.default_role = "auditor"
    saml_sso.save()
    saml_idp.login_as("newcomer@acme.test", "Nia", "Newcomer")

    post_to_acs(browser, idp_answer(sign_in_request(browser)))

    user = signed_in_as(browser)
    assert (user.email, user.first_name, user.last_name) == (
        "newcomer@acme.test",
        "Nia",
        "Newcomer",
    )
    assert Membership.objects.get(organization=org, user=user).role == "auditor"
    actions = set(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    assert {"membership.joined_by_sso", "sso.signed_in"} <= actions


def test_a_person_outside_the_verified_domains_who_is_not_a_member_is_refused(
    saml_sso, saml_idp, browser
):
    saml_idp.login_as("stranger@elsewhere.test")

    response = post_to_acs(browser, idp_answer(sign_in_request(browser)))

    assert response.status_code == 403
    assert "stranger@elsewhere.test is not a member of Acme" in response.content.decode()
    assert signed_in_user_id(browser) is None


def test_a_response_posted_twice_signs_in_only_once(saml_sso, saml_idp, browser, member, caplog):
    saml_idp.login_as("member@acme.test")
    answer = idp_answer(sign_in_request(browser))
    post_to_acs(browser, answer)
    assert signed_in_as(browser) == member.user
    browser.logout()
    SocialAccount.objects.all().delete()

    response = post_to_acs(browser, answer)

    # Its request's state was used up by the first sign-in.
    assert_refused(browser, response, caplog, "Forbidden", status=403)


def assert_refused(browser, response, caplog, reason: str, status: int = 403):
    """Nobody signed in, no account linked, and allauth logged why (python3-saml's reason)."""
    assert signed_in_user_id(browser) is None
    assert not SocialAccount.objects.exists()
    assert response.status_code == status
    assert reason in caplog.text


@pytest.fixture
def answered(saml_sso, saml_idp, browser, member):
    """The IdP's answer to our sign-in request for the member, not yet posted back."""
    saml_idp.login_as("member@acme.test", "Mona", "Member")
    return idp_answer(sign_in_request(browser))


def test_a_response_without_any_signature_is_refused(saml_sso, saml_idp, browser, member, caplog):
    saml_idp.sign_response = saml_idp.sign_assertion = False
    saml_idp.login_as("member@acme.test")

    response = post_to_acs(browser, idp_answer(sign_in_request(browser)))

    assert_refused(
        browser,
        response,
        caplog,
        "The Assertion of the Response is not signed and the SP require it",
    )


def test_a_signed_response_whose_assertion_is_unsigned_is_refused(
    saml_sso, saml_idp, browser, member, caplog
):
    # The assertion names the person: a signature on the envelope alone is not enough.
    saml_idp.sign_assertion = False
    saml_idp.login_as("member@acme.test")

    response = post_to_acs(browser, idp_answer(sign_in_request(browser)))

    assert_refused(
        browser,
        response,
        caplog,
        "The Assertion of the Response is not signed and the SP require it",
    )


def test_a_response_altered_after_signing_is_refused(answered, browser, owner, caplog):
    xml = base64.b64decode(answered.saml_response).decode()
    assert xml.count("member@acme.test") >= 2
    altered = xml.replace("member@acme.test", "owner@acme.test")
    forged = PostedForm(
        answered.action, base64.b64encode(altered.encode()).decode(), answered.relay_state
    )

    response = post_to_acs(browser, forged)

    assert_refused(browser, response, caplog, "Signature validation failed. SAML Response rejected")


def test_a_response_signed_by_a_key_not_in_the_metadata_is_refused(
    saml_sso, saml_idp, browser, member, caplog
):
    saml_idp.resign_with_another_key()
    saml_idp.login_as("member@acme.test")

    response = post_to_acs(browser, idp_answer(sign_in_request(browser)))

    assert_refused(browser, response, caplog, "Signature validation failed. SAML Response rejected")


def test_an_identity_provider_initiated_response_is_refused(
    saml_sso, saml_idp, browser, member, caplog
):
    # Signed and valid, but it answers no request of this browser: nothing binds it to the
    # person presenting it (it could have been planted in their browser).
    saml_idp.login_as("member@acme.test")
    page = saml_idp.unsolicited(
        acs_url=f"{BASE}/accounts/saml/acme/acs/",
        sp_entity_id=f"{BASE}/accounts/saml/acme/metadata/",
        relay_state="/",
    )
    response = post_to_acs(browser, posted_form(page))

    assert_refused(browser, response, caplog, "IdP initiated SSO rejected")


def test_a_response_to_another_browsers_request_is_refused(answered, client, caplog):
    attacker = Client(HTTP_HOST=HOST)

    response = post_to_acs(attacker, answered)

    assert_refused(attacker, response, caplog, "Forbidden", status=403)


def test_a_person_signs_in_from_the_login_page_by_their_address(saml_sso, saml_idp, browser):
    saml_idp.login_as("walker@acme.test", "Wendy", "Walker")

    start = browser.post("/sign-in/sso/", {"email": "walker@acme.test"})
    # A page that goes on by itself to the identity provider, carrying our AuthnRequest.
    assert start.status_code == 200, start.content.decode()[:2000]
    idp_url = start["Refresh"].removeprefix("0;url=")
    assert idp_url.startswith(f"{saml_idp.url}/sso/redirect?SAMLRequest=")
    response = post_to_acs(browser, idp_answer(idp_url))

    assert response.status_code == 200
    assert signed_in_as(browser).email == "walker@acme.test"


@pytest.mark.parametrize(
    ("style", "uid", "names"),
    [
        ("oid", "ada@acme.test", ("Ada", "Lovelace")),
        ("entra", "oid-ada@acme.test", ("Ada", "Lovelace")),
        ("okta", "ada@acme.test", ("Ada", "Lovelace")),
        ("nameid", "ada@acme.test", ("", "")),
    ],
)
def test_the_common_providers_attribute_names_are_understood(
    saml_sso, saml_idp, browser, style, uid, names
):
    saml_idp.attribute_style = style
    saml_idp.login_as("ada@acme.test", "Ada", "Lovelace")

    post_to_acs(browser, idp_answer(sign_in_request(browser)))

    user = signed_in_as(browser)
    assert (user.email, user.first_name, user.last_name) == ("ada@acme.test", *names)
    # Entra's object id is stable when the address changes; others fall back to the NameID.
    assert SocialAccount.objects.get(user=user).uid == uid


def test_after_a_certificate_rollover_sign_in_works_once_the_metadata_is_refreshed(
    saml_sso, saml_idp, browser, member, caplog
):
    saml_idp.login_as("member@acme.test")
    saml_idp.resign_with_another_key(publish=True)
    refused = post_to_acs(browser, idp_answer(sign_in_request(browser)))
    assert_refused(browser, refused, caplog, "Signature validation failed")

    assert saml_metadata_refresh(sso_id=saml_sso.pk).outcome == "changed"
    response = post_to_acs(browser, idp_answer(sign_in_request(browser)))

    assert response.status_code == 200
    assert signed_in_as(browser) == member.user


def test_our_metadata_names_our_entity_id_and_acs_and_wants_signed_assertions(
    saml_sso, browser, other_org
):
    ours = browser.get("/accounts/saml/acme/metadata/").content.decode()
    none = browser.get("/accounts/saml/globex/metadata/")

    assert f'entityID="{BASE}/accounts/saml/acme/metadata/"' in ours
    assert f'Location="{BASE}/accounts/saml/acme/acs/"' in ours
    assert 'WantAssertionsSigned="true"' in ours
    # An organization without SAML sign-in has no service provider.
    assert none.status_code == 404
