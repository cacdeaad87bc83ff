"""Key rotation as long work: one run at a time, recorded with its progress, claimed with a
lease so that a second delivery does nothing and a dead worker's run is taken up again."""

import hashlib
import logging
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from orgconnectors.core.actor import Actor
from orgconnectors.encryption import DecryptionFailed, encrypt
from orgconnectors.oauth import tasks
from orgconnectors.oauth.errors import KeyRotationRefused
from orgconnectors.oauth.key_rotation_runs import (
    LEASE,
    key_rotation_run,
    key_rotation_start,
)
from orgconnectors.oauth.models import KeyRotation
from tests.factories import ConnectorFactory
from tests.oauth.secret_rows import readable_secrets, store_secrets, stored_ciphertexts

pytestmark = pytest.mark.django_db
Status = KeyRotation.Status
KINDS = [
    "connector client secrets",
    "single sign-on client secrets",
    "OAuth clients",
    "member credentials",
    "pending authorizations",
    "pending revocations",
]


@pytest.fixture
def keys(settings):
    """Two keys; the secrets are stored under A, then B is put first (the rotation to do)."""
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    def use(*chosen: str) -> None:
        settings.ORGCONNECTORS_ENCRYPTION_KEYS = list(chosen)

    use(key_a)
    return type("Keys", (), {"a": key_a, "b": key_b, "use": staticmethod(use)})


@pytest.fixture
def operator_actor(owner) -> Actor:
    return Actor(user=owner.user, ip="203.0.113.9", user_agent="pytest")


def _queued(actor: Actor, capture) -> tuple[KeyRotation, list]:
    with capture(execute=False) as callbacks:
        rotation = key_rotation_start(actor=actor)
    return rotation, callbacks


def test_starting_a_rotation_queues_it_and_enqueues_its_task_on_commit(
    operator_actor, owner, keys, django_capture_on_commit_callbacks
):
    store_secrets(owner)
    keys.use(keys.b, keys.a)

    rotation, callbacks = _queued(operator_actor, django_capture_on_commit_callbacks)

    rotation.refresh_from_db()
    assert rotation.status == Status.QUEUED
    assert rotation.source == KeyRotation.Source.WEB
    assert rotation.requested_by == owner.user
    assert rotation.requested_by_label == owner.user.email
    assert len(callbacks) == 1  # nothing runs before the row is committed
    callbacks[0]()  # the commit: the task runs (eagerly here, as a worker would)
    rotation.refresh_from_db()
    assert rotation.status == Status.DONE


def test_a_run_re_encrypts_every_secret_under_the_new_key(
    operator_actor, owner, keys, django_capture_on_commit_callbacks
):
    plain = store_secrets(owner)
    before = stored_ciphertexts()
    keys.use(keys.b, keys.a)

    with django_capture_on_commit_callbacks(execute=True):
        rotation = key_rotation_start(actor=operator_actor)

    keys.use(keys.b)
    assert readable_secrets() == plain
    assert stored_ciphertexts().isdisjoint(before)
    rotation.refresh_from_db()
    assert rotation.status == Status.DONE
    assert rotation.rows_total == rotation.rows_done == 6
    assert rotation.kinds() == [(kind, 1, 1) for kind in KINDS]
    assert rotation.key_fingerprint == hashlib.sha256(keys.b.encode()).hexdigest()[:8]
    assert rotation.started_at <= rotation.finished_at
    assert (rotation.lease_token, rotation.lease_until, rotation.error) == ("", None, "")
    keys.use(keys.a)
    with pytest.raises(DecryptionFailed):
        readable_secrets()


def test_progress_is_recorded_after_each_batch(
    operator_actor, owner, keys, django_capture_on_commit_callbacks
):
    store_secrets(owner)
    for _ in range(2):  # three connectors with a secret, rewritten one per batch
        ConnectorFactory(
            organization=owner.organization, oauth_client_secret_encrypted=encrypt("x")
        )
    rotation, _ = _queued(operator_actor, django_capture_on_commit_callbacks)
    seen = []

    def watch(kind: str, done: int) -> None:
        row = KeyRotation.objects.get(pk=rotation.pk)
        seen.append((kind, done, row.status, row.rows_done, row.rows_total, row.heartbeat_at))

    key_rotation_run(rotation_id=rotation.pk, batch_size=1, on_progress=watch)

    assert [entry[:5] for entry in seen[:5]] == [
        ("connector client secrets", 1, Status.RUNNING, 1, 8),
        ("connector client secrets", 2, Status.RUNNING, 2, 8),
        ("connector client secrets", 3, Status.RUNNING, 3, 8),
        ("single sign-on client secrets", 1, Status.RUNNING, 4, 8),
        ("OAuth clients", 1, Status.RUNNING, 5, 8),
    ]
    assert [entry[3] for entry in seen] == list(range(1, 9))
    assert all(entry[5] is not None for entry in seen)


def test_a_secret_no_key_decrypts_fails_the_run_with_what_to_do(
    operator_actor, owner, keys, django_capture_on_commit_callbacks
):
    store_secrets(owner)
    lost_key = Fernet.generate_key().decode()
    keys.use(lost_key)
    store_secrets(owner, tag="lost")
    keys.use(keys.b, keys.a)  # the lost key is not in the list any more

    with django_capture_on_commit_callbacks(execute=True):
        rotation = key_rotation_start(actor=operator_actor)

    rotation.refresh_from_db()
    assert rotation.status == Status.FAILED
    assert "connector client secrets #" in rotation.error
    assert "cannot be decrypted with any key" in rotation.error
    assert (
        "Put every key still in use into ORGCONNECTORS_ENCRYPTION_KEYS (the new one first)"
        in rotation.error
    )
    assert rotation.finished_at is not None and rotation.lease_until is None
    # A failed run holds nothing: once the key is back, the rotation can be started again.
    keys.use(keys.b, keys.a, lost_key)
    with django_capture_on_commit_callbacks(execute=True):
        again = key_rotation_start(actor=operator_actor)
    again.refresh_from_db()
    assert again.status == Status.DONE


def test_running_the_task_twice_is_harmless(
    operator_actor, owner, keys, django_capture_on_commit_callbacks
):
    plain = store_secrets(owner)
    keys.use(keys.b, keys.a)
    rotation, _ = _queued(operator_actor, django_capture_on_commit_callbacks)

    assert tasks.key_rotation_run(rotation_id=str(rotation.pk)) == Status.DONE
    rotation.refresh_from_db()
    after_first = stored_ciphertexts()
    assert tasks.key_rotation_run(rotation_id=rotation.pk) == "skipped"

    assert KeyRotation.objects.get(pk=rotation.pk).finished_at == rotation.finished_at
    assert stored_ciphertexts() == after_first  # nothing rewritten the second time
    keys.use(keys.b)
    assert readable_secrets() == plain


def test_a_run_held_by_a_live_worker_is_left_alone(
    operator_actor, owner, keys, django_capture_on_commit_callbacks
):
    store_secrets(owner)
    keys.use(keys.b, keys.a)
    rotation, _ = _queued(operator_actor, django_capture_on_commit_callbacks)
    held_until = timezone.now() + LEASE
    KeyRotation.objects.filter(pk=rotation.pk).update(
        status=Status.RUNNING, lease_token="another-worker", lease_until=held_until
    )
    before = stored_ciphertexts()

    assert key_rotation_run(rotation_id=rotation.pk) is None

    rotation.refresh_from_db()
    assert (rotation.status, rotation.lease_token) == (Status.RUNNING, "another-worker")
    assert stored_ciphertexts() == before


def test_an_expired_lease_is_claimed_again(
    operator_actor, owner, keys, django_capture_on_commit_callbacks
):
    plain = store_secrets(owner)
    keys.use(keys.b, keys.a)
    rotation, _ = _queued(operator_actor, django_capture_on_commit_callbacks)
    started = timezone.now()
    KeyRotation.objects.filter(pk=rotation.pk).update(
        status=Status.RUNNING,
        started_at=started,
        heartbeat_at=started,
        lease_token="a-worker-that-died",
        lease_until=started + LEASE,
        rows_done=2,
    )

    with time_machine.travel(started + LEASE + timedelta(seconds=1)):
        rotation = key_rotation_run(rotation_id=rotation.pk)

    assert rotation.status == Status.DONE
    assert rotation.rows_done == 6 and rotation.started_at > started
    keys.use(keys.b)
    assert readable_secrets() == plain


def test_a_second_rotation_is_refused_while_one_runs(
    operator_actor, owner, django_capture_on_commit_callbacks
):
    first, _ = _queued(operator_actor, django_capture_on_commit_callbacks)
    KeyRotation.objects.filter(pk=first.pk).update(
        status=Status.RUNNING, lease_until=timezone.now() + LEASE
    )

    with pytest.raises(KeyRotationRefused) as refused:
        _queued(operator_actor, django_capture_on_commit_callbacks)

    assert refused.value.message == (
        f"Key rotation #{first.pk} is running (asked for by {owner.user.email} from the admin "
        "page); wait until it has finished, then start another if it is still needed."
    )
    assert KeyRotation.objects.count() == 1


def test_the_database_allows_one_queued_or_running_rotation_at_a_time(db):
    KeyRotation.objects.create(source="web", status=Status.QUEUED)
    KeyRotation.objects.create(source="web", status=Status.DONE)
    KeyRotation.objects.create(source="web", status=Status.FAILED)

    # Two starts at the same moment both get past any check; the index refuses the second.
    with pytest.raises(IntegrityError), transaction.atomic():
        KeyRotation.objects.create(source="command", status=Status.RUNNING)


def test_a_run_no_worker_took_gives_way_to_a_new_one(
    operator_actor, django_capture_on_commit_callbacks
):
    stuck, _ = _queued(operator_actor, django_capture_on_commit_callbacks)

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        fresh, _ = _queued(operator_actor, django_capture_on_commit_callbacks)

    stuck.refresh_from_db()
    assert stuck.status == Status.FAILED
    assert stuck.error.startswith("No worker took this run within 10 minutes")
    assert fresh.status == Status.QUEUED
    assert tasks.key_rotation_run(rotation_id=stuck.pk) == "skipped"  # its late delivery


def test_the_command_records_its_run_and_prints_progress(owner, keys):
    plain = store_secrets(owner)
    keys.use(keys.b, keys.a)
    out = StringIO()

    call_command("rotate_encryption_keys", "--batch-size", "1", stdout=out)

    rotation = KeyRotation.objects.get()
    assert (rotation.source, rotation.status) == (KeyRotation.Source.COMMAND, Status.DONE)
    assert rotation.requested_by is None
    assert rotation.requested_by_label == "rotate_encryption_keys command"
    assert "  member credentials: 1 re-encrypted so far" in out.getvalue()
    assert f"(fingerprint {rotation.key_fingerprint}); recorded as {rotation}." in out.getvalue()
    keys.use(keys.b)
    assert readable_secrets() == plain


def test_the_command_is_refused_while_a_run_is_queued(
    operator_actor, owner, keys, django_capture_on_commit_callbacks
):
    store_secrets(owner)
    queued, _ = _queued(operator_actor, django_capture_on_commit_callbacks)
    err = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("rotate_encryption_keys", stderr=err)

    assert exited.value.code == 1
    assert f"Key rotation #{queued.pk} is waiting for a worker" in err.getvalue()
    assert KeyRotation.objects.count() == 1


def test_the_command_exits_1_with_the_sentence_when_a_secret_cannot_be_read(owner, keys):
    store_secrets(owner)
    keys.use(Fernet.generate_key().decode())
    err = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("rotate_encryption_keys", stderr=err, stdout=StringIO())

    assert exited.value.code == 1
    assert "cannot be decrypted with any key. Put every key still in use" in err.getvalue()
    assert KeyRotation.objects.get().status == Status.FAILED


def test_the_log_names_the_run_and_its_key_fingerprint_but_no_key_or_secret(
    operator_actor, owner, keys, caplog, django_capture_on_commit_callbacks
):
    plain = store_secrets(owner)
    keys.use(keys.b, keys.a)
    caplog.set_level(logging.INFO, logger="orgconnectors.oauth.key_rotation_runs")

    with django_capture_on_commit_callbacks(execute=True):
        rotation = key_rotation_start(actor=operator_actor)

    rotation.refresh_from_db()
    logged = caplog.text
    assert f"key rotation {rotation.pk} asked for by {owner.user.email}" in logged
    assert f"key rotation {rotation.pk} done: 6 rows under key {rotation.key_fingerprint}" in logged
    leaked = [value for value in (keys.a, keys.b, *plain) if value in logged]
    assert leaked == []
