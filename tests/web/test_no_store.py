"""No cache, the browser's or a proxy's, keeps an answer that carries a secret: new API tokens
(the API's answer and the page), the Messages API configuration (the API and the page's Reveal),
invitations, and the page that sends the browser to an authorization server
(tests/oauth/conftest.py::handoff_url)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def _not_stored(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_the_apis_answer_with_a_new_token_is_not_stored(owner, actor):
    api = token_client(owner, actor=actor)

    response = api.post("/api/v1/orgs/acme/api-tokens", {"name": "ci"})

    assert response.status_code == 201 and "token" in response.json()
    assert _not_stored(response)


def test_the_apis_messages_api_configuration_is_not_stored(member, actor):
    response = token_client(member, actor=actor).get("/api/v1/orgs/acme/messages-api-config")

    assert response.status_code == 200
    assert _not_stored(response)


def test_the_apis_answer_to_an_invitation_is_not_stored(owner, actor):
    api = token_client(owner, actor=actor)

    response = api.post("/api/v1/orgs/acme/members", {"email": "new@example.com", "role": "member"})

    assert response.status_code == 201
    assert _not_stored(response)


def test_every_api_answer_is_not_stored(owner, actor):
    # Each is private to its caller; a list today may carry a secret tomorrow.
    response = token_client(owner, actor=actor).get("/api/v1/orgs/acme/api-tokens")

    assert response.status_code == 200
    assert _not_stored(response)


def test_the_page_that_shows_a_new_token_is_not_stored(owner):
    client = Client()
    client.force_login(owner.user)

    response = client.post(
        reverse("api_token_list", args=["acme"]),
        {"name": "ci", "expires_in_days": "30", "scopes": ["read"]},
    )

    assert response.status_code == 200 and "oc_" in response.content.decode()
    assert _not_stored(response)


def test_the_page_that_reveals_the_configurations_tokens_is_not_stored(member):
    client = Client()
    client.force_login(member.user)

    response = client.post(reverse("messages_api_config", args=["acme"]))

    assert response.status_code == 200
    assert _not_stored(response)
