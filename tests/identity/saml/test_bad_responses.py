"""Whatever is posted to the ACS, it is a refusal, never a 500."""

import base64

import pytest

from tests.identity.saml import metadata_documents as docs


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"SAMLResponse": "not base64 !!"},
        {"SAMLResponse": b64("not xml")},
        {
            "SAMLResponse": b64(
                "<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'/>"
            )
        },
        {"SAMLResponse": b64(docs.BILLION_LAUGHS)},
        {"SAMLResponse": b64(docs.EXTERNAL_ENTITY)},
    ],
    ids=["nothing", "not-base64", "not-xml", "empty-response", "billion-laughs", "xxe"],
)
def test_a_malformed_response_is_refused_without_an_error(saml_sso, browser, data):
    browser.raise_request_exception = False

    response = browser.post("/accounts/saml/acme/acs/", data, follow=True)

    assert 400 <= response.status_code < 500, response.status_code
    assert browser.session.get("_auth_user_id") is None


def test_the_finish_page_without_a_response_is_refused(saml_sso, browser):
    browser.raise_request_exception = False

    response = browser.get("/accounts/saml/acme/acs/finish/")

    assert 400 <= response.status_code < 500
