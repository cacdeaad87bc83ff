"""PUT /api/v1/orgs/{org}/sso with SAML: owners give the IdP's metadata URL or XML; metadata that
cannot be used is a 400 with the reason, and nothing is stored."""

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.identity.models import SingleSignOn
from tests.api.conftest import token_client
from tests.identity.saml import metadata_documents as docs

SSO = "/api/v1/orgs/acme/sso"


@pytest.fixture
def api(owner, actor):
    return token_client(owner, actor=actor)


def test_an_owner_configures_saml_from_the_metadata_url(api, org, saml_idp):
    answer = api.put(SSO, {"protocol": "saml", "metadata_url": saml_idp.metadata_url})

    assert answer.status_code == 200, answer.content
    shown = answer.json()
    assert shown["protocol"] == "saml"
    assert shown["metadata_url"] == saml_idp.metadata_url
    assert shown["metadata_fetched_at"]
    assert shown["saml_entity_id"] == "http://127.0.0.1:8000/accounts/saml/acme/metadata/"
    sso = SingleSignOn.objects.get(organization=org)
    assert sso.metadata_xml == saml_idp.metadata()
    assert AuditEvent.objects.filter(organization=org, action="sso.configured").exists()


def test_an_owner_configures_saml_from_pasted_metadata(api, org, saml_idp):
    answer = api.put(SSO, {"protocol": "saml", "metadata_xml": saml_idp.metadata()})

    assert answer.status_code == 200, answer.content
    sso = SingleSignOn.objects.get(organization=org)
    assert (sso.metadata_url, sso.metadata_xml) == ("", saml_idp.metadata())


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (docs.BILLION_LAUGHS, "declares a DTD or XML entities, which are refused"),
        ("<rss/>", "not SAML metadata"),
        (docs.document(docs.entity("https://idp.example.com")), "no signing certificate"),
    ],
)
def test_metadata_that_cannot_be_used_is_a_400_with_the_reason(api, xml, reason):
    answer = api.put(SSO, {"protocol": "saml", "metadata_xml": xml})

    assert answer.status_code == 400
    assert reason in answer.json()["detail"]
    assert answer.json()["errors"] == {"metadata_xml": [answer.json()["detail"]]}
    assert not SingleSignOn.objects.exists()


def test_a_metadata_url_that_answers_no_metadata_is_a_400(api, saml_idp):
    answer = api.put(SSO, {"protocol": "saml", "metadata_url": f"{saml_idp.url}/nothing"})

    assert answer.status_code == 400
    assert answer.json()["detail"] == "The metadata URL answered HTTP 404, not the metadata."
    assert not SingleSignOn.objects.exists()
