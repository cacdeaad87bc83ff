"""Reading a SAML identity provider's metadata: from its URL through the egress module, or as
pasted; each flaw refused with a sentence for the owner."""

from pathlib import Path

import pytest

from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.saml_metadata import (
    MAX_METADATA_BYTES,
    SamlIdpMetadata,
    saml_metadata_read,
)
from tests.identity.saml import metadata_documents as docs
from tests.peers.saml_idp import make_key_and_certificate
from tests.servers import free_port


@pytest.fixture
def certificate(tmp_path: Path) -> str:
    return make_key_and_certificate(tmp_path, "idp")[2]


def refusal(**source) -> str:
    with pytest.raises(ServiceError) as refused:
        saml_metadata_read(**source)
    assert refused.value.status == 400
    return refused.value.message


def test_it_reads_the_identity_providers_metadata_from_its_url(saml_idp):
    metadata = saml_metadata_read(url=saml_idp.metadata_url)

    assert metadata == SamlIdpMetadata(
        entity_id=saml_idp.entity_id,
        sso_url=f"{saml_idp.url}/sso/redirect",
        slo_url="",
        x509_certs=(saml_idp.certificate,),
        xml=saml_idp.metadata(),
    )


def test_it_reads_pasted_metadata_with_its_logout_url_and_every_signing_certificate(
    certificate, tmp_path
):
    second = make_key_and_certificate(tmp_path, "next")[2]
    xml = docs.document(
        docs.entity(
            "https://idp.example.com",
            keys=[docs.key_descriptor(certificate), docs.key_descriptor(second, use=None)],
            slo=[(docs.REDIRECT, "https://idp.example.com/slo")],
        )
    )

    metadata = saml_metadata_read(xml=xml)

    assert metadata.entity_id == "https://idp.example.com"
    assert metadata.sso_url == "https://idp.example.com/sso"
    assert metadata.slo_url == "https://idp.example.com/slo"
    assert metadata.x509_certs == (certificate, second)


def test_a_billion_laughs_document_is_refused_without_expanding_it():
    message = refusal(xml=docs.BILLION_LAUGHS)

    assert "declares a DTD or XML entities, which are refused" in message


def test_an_external_entity_is_refused_without_reading_the_file(saml_idp):
    url = saml_idp.serve("xxe.xml", docs.EXTERNAL_ENTITY.encode())

    message = refusal(url=url)

    assert "declares a DTD or XML entities, which are refused" in message
    assert "root:" not in message


def test_an_unreachable_url_is_refused():
    message = refusal(url=f"http://127.0.0.1:{free_port()}/metadata")

    assert message.startswith("The metadata could not be fetched from http://127.0.0.1:")


def test_a_url_that_answers_an_error_is_refused(saml_idp):
    message = refusal(url=f"{saml_idp.url}/nothing-here")

    assert message == "The metadata URL answered HTTP 404, not the metadata."


def test_plain_http_is_refused_when_loopback_is_not_allowed(saml_idp, settings):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False

    message = refusal(url=saml_idp.metadata_url)

    assert message == "The metadata URL cannot be used: http:// is not allowed; use https://."


def test_a_document_that_is_not_xml_is_refused(saml_idp):
    url = saml_idp.serve("page.html", b"<html><body>Sign in</body>")

    message = refusal(url=url)

    assert message.startswith("The metadata is not well-formed XML")


def test_xml_that_is_not_metadata_is_refused():
    message = refusal(xml="<rss><channel/></rss>")

    assert message == "The document is XML but not SAML metadata (no EntityDescriptor at its root)."


def test_a_service_providers_metadata_is_refused_as_no_identity_provider(certificate):
    xml = docs.document(
        docs.entity(
            "https://sp.example.com",
            keys=[docs.key_descriptor(certificate)],
            descriptor="SPSSODescriptor",
        )
    )

    message = refusal(xml=xml)

    assert message.startswith("The metadata describes no identity provider (no IDPSSODescriptor)")


def test_metadata_without_a_redirect_sign_in_url_is_refused(certificate):
    only_post = docs.document(
        docs.entity(
            "https://idp.example.com",
            keys=[docs.key_descriptor(certificate)],
            sso=[(docs.POST, "https://idp.example.com/sso")],
        )
    )
    none = docs.document(
        docs.entity("https://idp.example.com", keys=[docs.key_descriptor(certificate)], sso=[])
    )

    assert refusal(xml=only_post) == (
        "The identity provider's metadata has no sign-in URL for the HTTP-Redirect binding (only "
        "HTTP-POST, which this service provider does not send requests with)."
    )
    assert refusal(xml=none) == (
        "The identity provider's metadata has no sign-in URL for the HTTP-Redirect binding."
    )


def test_metadata_without_a_signing_certificate_is_refused(certificate):
    encryption_only = docs.document(
        docs.entity(
            "https://idp.example.com", keys=[docs.key_descriptor(certificate, use="encryption")]
        )
    )

    message = refusal(xml=encryption_only)

    assert message == (
        "The identity provider's metadata has no signing certificate, so its responses could "
        "not be verified."
    )


def test_a_certificate_that_is_not_one_is_refused():
    xml = docs.document(
        docs.entity("https://idp.example.com", keys=[docs.key_descriptor("bm90IGEgY2VydA==")])
    )

    assert "cannot be read as an X.509 certificate" in refusal(xml=xml)


def test_metadata_larger_than_the_limit_is_refused_from_a_url_or_pasted(saml_idp, certificate):
    padding = "<!--" + "x" * MAX_METADATA_BYTES + "-->"
    xml = (
        docs.document(
            docs.entity("https://idp.example.com", keys=[docs.key_descriptor(certificate)])
        )
        + padding
    )
    url = saml_idp.serve("huge.xml", xml.encode())

    for source in ({"url": url}, {"xml": xml}):
        assert refusal(**source).startswith("The metadata is larger than 1024 KB")


def test_a_document_with_two_identity_providers_needs_one_chosen(certificate):
    xml = docs.document(
        docs.entity("https://one.example.com", keys=[docs.key_descriptor(certificate)]),
        docs.entity("https://two.example.com", keys=[docs.key_descriptor(certificate)]),
    )

    message = refusal(xml=xml)
    chosen = saml_metadata_read(xml=xml, entity_id="https://two.example.com")

    assert message.startswith(
        "The metadata describes 2 identity providers (https://one.example.com, "
        "https://two.example.com); choose one entity id"
    )
    assert chosen.entity_id == "https://two.example.com"
    # What is stored is the chosen provider alone, so reading it again needs no choice.
    assert saml_metadata_read(xml=chosen.xml).entity_id == "https://two.example.com"


def test_an_entity_id_is_compared_not_evaluated(certificate):
    xml = docs.document(
        docs.entity("https://one.example.com", keys=[docs.key_descriptor(certificate)])
    )

    message = refusal(xml=xml, entity_id="x' or '1'='1")

    assert message == "The metadata describes no identity provider with the entity id x' or '1'='1."


def test_a_refusal_names_the_field_it_is_about(saml_idp):
    with pytest.raises(ServiceError) as from_url:
        saml_metadata_read(url=f"{saml_idp.url}/nothing-here")
    with pytest.raises(ServiceError) as pasted:
        saml_metadata_read(xml="not xml")

    assert from_url.value.field == "metadata_url"
    assert pasted.value.field == "metadata_xml"


def test_the_url_and_the_xml_together_or_neither_are_refused(certificate):
    xml = docs.document(
        docs.entity("https://idp.example.com", keys=[docs.key_descriptor(certificate)])
    )

    assert refusal(url="https://idp.example.com/metadata", xml=xml) == (
        "Give the identity provider's metadata URL or its XML, not both."
    )
    assert refusal(url="  ", xml=None) == "Give the identity provider's metadata URL or its XML."


def test_entra_shaped_metadata_gives_the_identity_providers_own_certificate(tmp_path):
    signing = make_key_and_certificate(tmp_path, "signing")[2]
    metadata_signer = make_key_and_certificate(tmp_path, "metadata")[2]
    # Wrapped at 64 columns, as many providers publish it.
    wrapped = "\n".join(signing[i : i + 64] for i in range(0, len(signing), 64))
    xml = docs.entra_shaped("https://sts.example.com/tenant/", wrapped, metadata_signer)

    metadata = saml_metadata_read(xml=xml)

    assert metadata.entity_id == "https://sts.example.com/tenant/"
    assert metadata.sso_url == "https://login.example.com/t/saml2"
    assert metadata.slo_url == "https://login.example.com/t/saml2"
    assert metadata.x509_certs == (signing,)
