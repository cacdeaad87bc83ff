"""Signing in through a real SAML 2.0 identity provider (pysaml2's, on loopback), SP-initiated:
our login redirects to the IdP with an AuthnRequest, the IdP posts a signed Response to our
ACS. Responses that are unsigned, altered, signed by another key, unsolicited (IdP-initiated)
or answering another browser's request sign nobody in."""

import base64

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from tests.identity.saml.conftest import BASE, HOST, idp_answer, post_to_acs, sign_in_request
from tests.peers.saml_idp import PostedForm, posted_form


def signed_in_user_id(browser):
    return browser.session.get("_auth_user_id")


def assert_refused(browser, response, caplog, reason: str, status: int = 401):
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
