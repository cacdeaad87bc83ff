"""At a task's soft time limit (Celery raises SoftTimeLimitExceeded wherever the task is), the
work lets go of its claim, so it is taken up again at once rather than after the lease."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from orgconnectors.connectors.models import Connector
from orgconnectors.health.models import HealthCheck
from orgconnectors.health.services import health_sweep
from orgconnectors.oauth import refresh
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh import credential_refresh
from orgconnectors.oauth.refresh_outcomes import Outcome
from tests.factories import ConnectorFactory
from tests.oauth.secret_rows import store_secrets

pytestmark = pytest.mark.django_db


def _soft_limit(*args, **kwargs):
    raise SoftTimeLimitExceeded()


def test_a_refresh_at_its_soft_limit_lets_go_of_its_claim(
    member, oauth_connector, authorize, monkeypatch
):
    credential = authorize(member, oauth_connector).connection.oauth_credential
    monkeypatch.setattr(refresh, "token_request", _soft_limit)  # the request was still out

    outcome = credential_refresh(credential_id=credential.pk)

    assert outcome is Outcome.RETRY_LATER
    stored = OAuthCredential.objects.get()
    assert (stored.refresh_lease_until, stored.refresh_lease_token) == (None, "")
    assert stored.next_refresh_at <= timezone.now()
    assert stored.generation == credential.generation


def test_a_probe_batch_at_its_soft_limit_gives_its_connectors_back(db, org):
    connector = ConnectorFactory(organization=org)
    Connector.objects.filter(pk=connector.pk).update(next_check_at=timezone.now())

    class Wedged:
        config = type("Config", (), {"timeout": 5.0})()

        def probe_many(self, targets, **options):
            raise SoftTimeLimitExceeded()

    report = health_sweep(runner=Wedged())

    assert (report.claimed, report.recorded) == (1, 0)
    assert not HealthCheck.objects.exists()
    connector.refresh_from_db()
    assert connector.next_check_at <= timezone.now()


def test_a_key_rotation_at_its_soft_limit_fails_and_lets_another_start(
    owner, monkeypatch, django_capture_on_commit_callbacks
):
    from orgconnectors.core.actor import Actor
    from orgconnectors.oauth import key_rotation_runs
    from orgconnectors.oauth.models import KeyRotation

    operator = Actor(user=owner.user, ip="203.0.113.9", user_agent="pytest")
    real = key_rotation_runs.secrets_reencrypt

    def stopped_after_one_batch(*, batch_size, on_progress):
        def progress(kind, done):
            on_progress(kind, done)
            raise SoftTimeLimitExceeded()

        return real(batch_size=batch_size, on_progress=progress)

    monkeypatch.setattr(key_rotation_runs, "secrets_reencrypt", stopped_after_one_batch)
    store_secrets(owner)
    with django_capture_on_commit_callbacks(execute=True):
        rotation = key_rotation_runs.key_rotation_start(actor=operator)

    rotation.refresh_from_db()
    assert rotation.status == KeyRotation.Status.FAILED
    assert rotation.error.startswith("Stopped: the run took longer than its time limit.")
    assert (rotation.lease_until, rotation.lease_token) == (None, "")
    monkeypatch.setattr(key_rotation_runs, "secrets_reencrypt", real)
    with django_capture_on_commit_callbacks(execute=True):
        again = key_rotation_runs.key_rotation_start(actor=operator)
    again.refresh_from_db()
    assert again.status == KeyRotation.Status.DONE


def test_a_revocation_at_its_soft_limit_is_left_for_the_hourly_retry(
    member, oauth_connector, authorize, actor, monkeypatch, django_capture_on_commit_callbacks
):
    from orgconnectors.connectors.connections import connection_disable
    from orgconnectors.oauth import revocation
    from orgconnectors.oauth.models import TokenRevocation

    authorize(member, oauth_connector)
    monkeypatch.setattr(revocation, "revoke", _soft_limit)  # the request was still out

    with django_capture_on_commit_callbacks(execute=True):
        connection_disable(membership=member, connector=oauth_connector, actor=actor(member))

    waiting = TokenRevocation.objects.get()
    assert waiting.attempts == 1
