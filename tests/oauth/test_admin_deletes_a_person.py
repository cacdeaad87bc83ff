"""Deleting a person in the admin ends their memberships through the services: their tokens are
revoked at the authorization server, as when an owner removes them."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.vault import access_token_of, refresh_token_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> Client:
    user = get_user_model().objects.create_superuser(email="ops@example.com", password="x-1")
    client = Client()
    client.force_login(user)
    return client


def test_deleting_a_person_in_the_admin_revokes_their_tokens_at_the_server(
    operator, owner, member, oauth_connector, provider, authorize,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    credential = authorize(member, oauth_connector).connection.oauth_credential
    tokens = {access_token_of(credential), refresh_token_of(credential)}
    page = reverse("admin:accounts_user_delete", args=[member.user.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(page, {"post": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(email="member@acme.test").exists()
    assert set(provider.revoked) == tokens
    assert not OAuthCredential.objects.exists()
    removed = AuditEvent.objects.get(action="membership.removed")
    assert removed.target_label == "member@acme.test"
    assert removed.actor_label == "ops@example.com"
