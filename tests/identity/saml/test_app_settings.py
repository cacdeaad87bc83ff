"""The settings of allauth's `saml` app, built from the stored metadata: allauth is never given a
metadata URL to fetch, and the checks that make SAML safe are on."""

from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.saml_metadata import saml_app_settings
from orgconnectors.identity.sso_apps import list_apps
from tests.identity.saml import metadata_documents as docs
from tests.peers.saml_idp import make_key_and_certificate


def test_the_app_settings_come_from_the_stored_metadata_with_safe_checks(org, tmp_path):
    certificate = make_key_and_certificate(tmp_path, "idp")[2]
    sso = SingleSignOn.objects.create(
        organization=org,
        protocol=SingleSignOn.Protocol.SAML,
        metadata_url="https://idp.example.com/metadata",
        metadata_xml=docs.document(
            docs.entity(
                "https://idp.example.com",
                keys=[docs.key_descriptor(certificate)],
                slo=[(docs.REDIRECT, "https://idp.example.com/slo")],
            )
        ),
    )

    settings = saml_app_settings(sso)

    assert settings["idp"] == {
        "entity_id": "https://idp.example.com",
        "sso_url": "https://idp.example.com/sso",
        "slo_url": "https://idp.example.com/slo",
        "x509cert": certificate,
    }
    assert "metadata_url" not in settings["idp"]
    assert settings["sp"] == {"entity_id": "http://127.0.0.1:8000/accounts/saml/acme/metadata/"}
    advanced = settings["advanced"]
    assert advanced["want_assertion_signed"] is True
    assert advanced["reject_idp_initiated_sso"] is True
    assert advanced["strict"] is True
    assert advanced["name_id_format"].endswith(":emailAddress")
    mapping = settings["attribute_mapping"]
    assert "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" in mapping["email"]
    assert "urn:oid:2.5.4.42" in mapping["first_name"] and "sn" in mapping["last_name"]


def test_the_saml_app_is_looked_up_by_the_organizations_slug(org, tmp_path):
    certificate = make_key_and_certificate(tmp_path, "idp")[2]
    SingleSignOn.objects.create(
        organization=org,
        protocol=SingleSignOn.Protocol.SAML,
        metadata_xml=docs.document(
            docs.entity("https://idp.example.com", keys=[docs.key_descriptor(certificate)])
        ),
    )

    [app] = list_apps(provider="saml", client_id="acme")

    assert (app.provider, app.provider_id, app.client_id) == ("saml", "acme", "acme")
    assert app.pk is None
    assert app.settings["idp"]["x509cert"] == certificate
