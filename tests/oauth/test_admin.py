"""The admin shows member OAuth and health checks read-only, and never a secret."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.connectors.connections import connection_disable
from orgconnectors.encryption import decrypt
from orgconnectors.health.models import HealthCheck, HealthDailyRollup, HealthRun
from orgconnectors.oauth.models import (
    OAuthClient,
    OAuthCredential,
    PendingAuthorization,
    TokenRevocation,
)
from orgconnectors.oauth.services import oauth_authorization_start
from orgconnectors.oauth.vault import access_token_of, refresh_token_of

pytestmark = pytest.mark.django_db

MODELS = (
    OAuthClient,
    OAuthCredential,
    PendingAuthorization,
    TokenRevocation,
    HealthRun,
    HealthCheck,
    HealthDailyRollup,
)


@pytest.fixture
def operator() -> Client:
    user = get_user_model().objects.create_superuser(email="ops@example.com", password="x-1")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def secrets(
    org, owner, member, oauth_connector, authorize, actor, django_capture_on_commit_callbacks
) -> set[str]:
    """One row of each model, and every secret they hold, in plain text and encrypted."""
    kept = authorize(owner, oauth_connector).connection.oauth_credential
    revoked = authorize(member, oauth_connector).connection.oauth_credential
    found = {
        access_token_of(kept),
        refresh_token_of(kept),
        access_token_of(revoked),
        refresh_token_of(revoked),
        *(getattr(kept, f) for f in ("access_token_encrypted", "refresh_token_encrypted")),
    }
    client = OAuthClient.objects.get()
    found |= {decrypt(client.client_secret_encrypted), client.client_secret_encrypted}
    oauth_authorization_start(
        membership=owner, connector=oauth_connector, session_key="s", actor=actor(owner)
    )
    pending = PendingAuthorization.objects.get(used_at__isnull=True)
    found |= {decrypt(pending.code_verifier_encrypted), pending.code_verifier_encrypted}
    found |= {pending.state_hash}
    with django_capture_on_commit_callbacks(execute=False):  # the revocation stays queued
        connection_disable(membership=member, connector=oauth_connector, actor=actor(member))
    revocation = TokenRevocation.objects.get()
    found |= {revocation.access_token_encrypted, revocation.refresh_token_encrypted}
    now = timezone.now()
    run = HealthRun.objects.create(organization=org, kind=HealthRun.Kind.ONE, total=1, done=1)
    HealthCheck.objects.create(
        connector=oauth_connector,
        organization=org,
        run=run,
        checked_at=now,
        outcome="healthy",
        latency_ms=12,
        tool_count=1,
    )
    HealthDailyRollup.objects.create(
        connector=oauth_connector, day=now.date(), checks=4, up_checks=3, p50_latency_ms=10
    )
    assert all(secret for secret in found)
    return found


def _admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_each_page_opens_and_shows_no_secret(model, operator, secrets):
    pages = [_admin_url(model, "changelist")]
    pages += [_admin_url(model, "change", pk) for pk in model.objects.values_list("pk", flat=True)]
    assert len(pages) > 1

    for page in pages:
        response = operator.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, page


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_nothing_is_added_changed_or_deleted_here(model, operator, secrets):
    pk = model.objects.values_list("pk", flat=True).first()

    assert operator.get(_admin_url(model, "add")).status_code == 403
    assert operator.post(_admin_url(model, "change", pk), {}).status_code == 403
    assert operator.post(_admin_url(model, "delete", pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=pk).exists()
