"""Metadata that lists several identity providers (a federation's, an aggregate): owners choose
theirs by entity id, through the API or on the Sign-in page; without a choice the refusal names
the ids to choose from. The choice is stored, and the daily refresh follows that provider only:
when it leaves the metadata, the old metadata is kept and the failure audited."""

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.models import SingleSignOn
from orgconnectors.identity.saml_metadata import saml_metadata_read
from orgconnectors.identity.saml_refresh import saml_metadata_refresh
from orgconnectors.identity.sso_settings import sso_configure
from tests.api.conftest import token_client
from tests.identity.saml import metadata_documents as docs
from tests.identity.saml.conftest import idp_answer, post_to_acs, sign_in_request

SSO = "/api/v1/orgs/acme/sso"
OTHER = "https://other-university.example.org/idp"


def federation(saml_idp, *others: str, sso_url: str = "https://idp.example.org/sso") -> str:
    """An EntitiesDescriptor holding the loopback IdP's own metadata (as it publishes it) and an
    identity provider for each of `others` (signing with the same certificate: the refusals and
    choices, not the keys, are under test)."""
    ours = saml_idp.metadata()
    if ours.startswith("<?xml"):
        ours = ours.split("?>", 1)[1].strip()
    entities = [
        docs.entity(
            entity_id,
            keys=[docs.key_descriptor(saml_idp.certificate)],
            sso=[(docs.REDIRECT, sso_url)],
        )
        for entity_id in others
    ]
    return (
        f'<md:EntitiesDescriptor xmlns:md="{docs.MD}" xmlns:ds="{docs.DS}">'
        f"{ours}{''.join(entities)}</md:EntitiesDescriptor>"
    )


@pytest.fixture
def api(owner, actor):
    return token_client(owner, actor=actor)


def test_the_api_refuses_two_identity_providers_without_a_choice_and_names_both(api, saml_idp):
    url = saml_idp.serve("federation.xml", federation(saml_idp, OTHER).encode())

    answer = api.put(SSO, {"protocol": "saml", "metadata_url": url})

    assert answer.status_code == 400, answer.content
    detail = answer.json()["detail"]
    assert detail.startswith("The metadata describes 2 identity providers")
    assert saml_idp.entity_id in detail and OTHER in detail
    assert answer.json()["errors"] == {"saml_idp_entity_id": [detail]}
    assert not SingleSignOn.objects.exists()


def test_the_api_stores_the_chosen_identity_provider_and_shows_it(api, org, saml_idp):
    url = saml_idp.serve("federation.xml", federation(saml_idp, OTHER).encode())

    answer = api.put(
        SSO, {"protocol": "saml", "metadata_url": url, "saml_idp_entity_id": saml_idp.entity_id}
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["saml_idp_entity_id"] == saml_idp.entity_id
    # orgconnectors' own entity id, to register at the provider, is still there, apart.
    assert answer.json()["saml_entity_id"] == "http://127.0.0.1:8000/accounts/saml/acme/metadata/"
    assert api.get(SSO).json()["saml_idp_entity_id"] == saml_idp.entity_id
    sso = SingleSignOn.objects.get(organization=org)
    assert sso.saml_entity_id == saml_idp.entity_id
    # Only the chosen provider's EntityDescriptor is stored.
    assert saml_metadata_read(xml=sso.metadata_xml).entity_id == saml_idp.entity_id
    assert OTHER not in sso.metadata_xml
    [event] = AuditEvent.objects.filter(organization=org, action="sso.configured")
    assert event.changes["saml_entity_id"] == {"before": None, "after": saml_idp.entity_id}


def test_a_chosen_entity_id_the_metadata_does_not_list_is_a_400(api, saml_idp):
    answer = api.put(
        SSO,
        {
            "protocol": "saml",
            "metadata_xml": federation(saml_idp, OTHER),
            "saml_idp_entity_id": "https://nobody.example.org/idp",
        },
    )

    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "saml_idp_entity_id": [
            "The metadata describes no identity provider with the entity id "
            "https://nobody.example.org/idp."
        ]
    }
    assert not SingleSignOn.objects.exists()


def test_metadata_of_one_provider_stores_its_entity_id_without_a_choice(api, org, saml_idp):
    answer = api.put(SSO, {"protocol": "saml", "metadata_url": saml_idp.metadata_url})

    assert answer.status_code == 200, answer.content
    assert answer.json()["saml_idp_entity_id"] == saml_idp.entity_id
    assert SingleSignOn.objects.get(organization=org).saml_entity_id == saml_idp.entity_id


def test_a_refusal_names_ten_entity_ids_and_counts_the_rest(org, owner, saml_idp):
    many = [f"https://idp{n:02}.example.org/" for n in range(14)]

    with pytest.raises(ServiceError) as refused:
        sso_configure(
            organization=org,
            protocol="saml",
            metadata_xml=federation(saml_idp, *many),
            actor=Actor(user=owner.user),
        )

    message = refused.value.message
    assert message.startswith("The metadata describes 15 identity providers")
    assert f"{saml_idp.entity_id}, {many[0]}" in message
    assert f"{many[8]}, and 5 more)" in message
    assert many[9] not in message


def test_an_owner_chooses_the_identity_provider_on_the_sign_in_page(client, org, owner, saml_idp):
    client.force_login(owner.user)
    url = saml_idp.serve("federation.xml", federation(saml_idp, OTHER).encode())
    page = client.get("/orgs/acme/sign-in/").content.decode()
    assert "IdP entity ID (when the metadata lists several)" in page

    refused = client.post(
        "/orgs/acme/sign-in/sso/", {"protocol": "saml", "metadata_url": url}, follow=True
    ).content.decode()
    saved = client.post(
        "/orgs/acme/sign-in/sso/",
        {"protocol": "saml", "metadata_url": url, "saml_idp_entity_id": OTHER},
        follow=True,
    ).content.decode()

    assert "Single sign-on is not saved: The metadata describes 2 identity providers" in refused
    assert saml_idp.entity_id in refused and OTHER in refused
    assert "Single sign-on is saved." in saved
    assert f"identity provider <code>{OTHER}</code>" in saved
    assert f'name="saml_idp_entity_id" type="text" maxlength="1024" value="{OTHER}"' in saved
    assert SingleSignOn.objects.get(organization=org).saml_entity_id == OTHER


def test_a_member_signs_in_through_the_provider_chosen_in_a_federation(
    org, owner, acme_domain, member, saml_idp, browser
):
    url = saml_idp.serve("federation.xml", federation(saml_idp, OTHER).encode())
    sso_configure(
        organization=org,
        protocol="saml",
        metadata_url=url,
        saml_entity_id=saml_idp.entity_id,
        actor=Actor(user=owner.user),
    )
    saml_idp.trust_sp(browser.get("/accounts/saml/acme/metadata/").content.decode())
    saml_idp.login_as("member@acme.test")

    response = post_to_acs(browser, idp_answer(sign_in_request(browser)))

    assert response.status_code == 200
    assert browser.session.get("_auth_user_id") == str(member.user.pk)


@pytest.fixture
def federated_sso(org, owner, saml_idp):
    """Acme reads a federation's metadata from a URL and has chosen the other university's
    provider in it."""
    url = saml_idp.serve("federation.xml", federation(saml_idp, OTHER).encode())
    return sso_configure(
        organization=org,
        protocol="saml",
        metadata_url=url,
        saml_entity_id=OTHER,
        actor=Actor(user=owner.user),
    )


def test_the_refresh_keeps_following_the_chosen_provider(federated_sso, saml_idp, org):
    # The federation moves the chosen provider's sign-in URL; the loopback IdP comes first.
    saml_idp.serve(
        "federation.xml",
        federation(saml_idp, OTHER, sso_url="https://idp.example.org/new-sso").encode(),
    )

    result = saml_metadata_refresh(sso_id=federated_sso.pk)

    federated_sso.refresh_from_db()
    assert result.outcome == "changed"
    stored = saml_metadata_read(xml=federated_sso.metadata_xml)
    assert (stored.entity_id, stored.sso_url) == (OTHER, "https://idp.example.org/new-sso")
    assert federated_sso.saml_entity_id == OTHER
    [event] = AuditEvent.objects.filter(organization=org, action="sso.metadata_refreshed")
    assert list(event.changes) == ["sso_url"]


def test_a_chosen_provider_that_leaves_the_metadata_keeps_the_old_and_is_audited(
    federated_sso, saml_idp, org
):
    stored = federated_sso.metadata_xml
    saml_idp.serve("federation.xml", federation(saml_idp, "https://third.example.org/").encode())

    result = saml_metadata_refresh(sso_id=federated_sso.pk)

    federated_sso.refresh_from_db()
    assert result.outcome == "failed"
    assert (federated_sso.metadata_xml, federated_sso.saml_entity_id) == (stored, OTHER)
    [event] = AuditEvent.objects.filter(organization=org, action="sso.metadata_refresh_failed")
    assert event.changes["error"] == (
        f"The metadata describes no identity provider with the entity id {OTHER}."
    )
    assert event.changes["saml_entity_id"] == OTHER


def test_a_row_saved_before_the_choice_was_stored_learns_it_at_its_next_refresh(org, saml_idp):
    sso = SingleSignOn.objects.create(
        organization=org,
        protocol=SingleSignOn.Protocol.SAML,
        metadata_url=saml_idp.metadata_url,
        metadata_xml=saml_idp.metadata(),
    )

    assert saml_metadata_refresh(sso_id=sso.pk).outcome == "unchanged"

    sso.refresh_from_db()
    assert sso.saml_entity_id == saml_idp.entity_id
