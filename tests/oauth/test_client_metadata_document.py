"""A Client ID Metadata Document instead of a registration, when the authorization server
supports it and orgconnectors is served over https."""

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from orgconnectors.oauth.models import OAuthClient
from tests.factories import ConnectorFactory

BASE_URL = "https://orgconnectors.test"


def _fetch_from_orgconnectors(url: str) -> dict:
    """How the authorization server reads the document: from orgconnectors' own page."""
    try:
        response = Client().get(urlsplit(url).path)
        assert response.status_code == 200
        return response.json()
    finally:
        connection.close()  # this runs in the server's thread, with a connection of its own


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_server_supporting_metadata_documents_gets_a_url_as_client_id(
    settings, member, oauth_connector, provider, authorize
):
    settings.ORGCONNECTORS_BASE_URL = BASE_URL
    provider.cimd_supported = True
    provider.cimd_fetch = _fetch_from_orgconnectors

    authorized = authorize(member, oauth_connector)

    client = OAuthClient.objects.get()
    assert client.kind == OAuthClient.Kind.METADATA_DOCUMENT
    assert client.client_id == f"{BASE_URL}/oauth/client-metadata/{client.pk}.json"
    assert provider.registrations == 0
    assert provider.token_log.forms[0]["client_id"] == client.client_id
    assert "client_secret" not in provider.token_log.forms[0]
    assert authorized.connection.state == "enabled"


@pytest.mark.django_db
def test_the_document_names_the_callback_and_no_secret(settings, org, provider, client):
    settings.ORGCONNECTORS_BASE_URL = BASE_URL
    connector = ConnectorFactory(organization=org)
    document_client = OAuthClient.objects.create(
        connector=connector,
        issuer="https://as.example.com",
        kind=OAuthClient.Kind.METADATA_DOCUMENT,
        authorization_endpoint="https://as.example.com/authorize",
        token_endpoint="https://as.example.com/token",
    )
    document_client.client_id = f"{BASE_URL}/oauth/client-metadata/{document_client.pk}.json"
    document_client.save()

    document = client.get(f"/oauth/client-metadata/{document_client.pk}.json").json()

    assert document["client_id"] == document_client.client_id
    assert document["redirect_uris"] == [f"{BASE_URL}/oauth/callback"]
    assert document["token_endpoint_auth_method"] == "none"


@pytest.mark.django_db
def test_other_clients_have_no_document(org, provider, client):
    registered = OAuthClient.objects.create(
        connector=ConnectorFactory(organization=org),
        issuer="https://as.example.com",
        kind=OAuthClient.Kind.DYNAMIC,
        client_id="abc",
        authorization_endpoint="https://as.example.com/authorize",
        token_endpoint="https://as.example.com/token",
    )

    assert client.get(f"/oauth/client-metadata/{registered.pk}.json").status_code == 404


@pytest.mark.django_db
def test_over_plain_http_orgconnectors_registers_instead(
    member, oauth_connector, provider, authorize
):
    provider.cimd_supported = True

    authorize(member, oauth_connector)

    assert OAuthClient.objects.get().kind == OAuthClient.Kind.DYNAMIC
