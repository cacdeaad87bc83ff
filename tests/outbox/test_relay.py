"""The outbox helper and its relay, on a Redis of the tests' own."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from orgconnectors.celery import app as celery_app
from orgconnectors.outbox.enqueue import enqueue
from orgconnectors.outbox.models import OutboxMessage
from orgconnectors.outbox.publish import CLAIM, outbox_purge, outbox_relay
from orgconnectors.outbox.schedule import OUTBOX_BEAT_SCHEDULE
from tests.outbox.conftest import queued_kwargs

pytestmark = pytest.mark.django_db


def test_it_publishes_right_after_the_commit_and_marks_the_row_sent(
    own_redis, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message_id = enqueue("tests.echo", kwargs={"n": 1})
        assert queued_kwargs(own_redis) == []  # nothing leaves before the commit

    assert queued_kwargs(own_redis) == [{"n": 1}]
    message = OutboxMessage.objects.get(pk=message_id)
    assert message.sent_at is not None
    assert message.claimed_until is None


def test_the_committing_process_does_not_publish_a_row_the_relay_took_over(
    own_redis, django_capture_on_commit_callbacks
):
    """A transaction that outlasted its claim: the relay re-claimed the row and sends it; the
    committing process must not send it too."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message_id = enqueue("tests.echo", kwargs={"n": 1})
        OutboxMessage.objects.filter(pk=message_id).update(
            claimed_until=timezone.now() + CLAIM + timedelta(seconds=1)
        )

    assert queued_kwargs(own_redis) == []
    assert OutboxMessage.objects.get(pk=message_id).sent_at is None


def test_work_of_a_rolled_back_transaction_is_never_sent(
    own_redis, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue("tests.echo", kwargs={"n": 1})
            raise RuntimeError("the work failed")

    assert OutboxMessage.objects.count() == 0
    assert outbox_relay() == 0
    assert queued_kwargs(own_redis) == []


def test_a_row_whose_publisher_died_is_sent_after_its_claim_lapses_and_not_before(own_redis):
    now = timezone.now()
    lapsed = OutboxMessage.objects.create(
        task_name="tests.echo", kwargs={"n": 1}, claimed_until=now - timedelta(seconds=1)
    )
    held = OutboxMessage.objects.create(
        task_name="tests.echo", kwargs={"n": 2}, claimed_until=now + CLAIM
    )

    assert outbox_relay() == 1

    lapsed.refresh_from_db()
    held.refresh_from_db()
    assert lapsed.sent_at is not None
    assert held.sent_at is None
    assert queued_kwargs(own_redis) == [{"n": 1}]


def test_the_relay_leaves_rows_pending_while_the_broker_is_down(own_redis):
    OutboxMessage.objects.create(task_name="tests.echo", kwargs={"n": 1})
    own_redis.stop()

    assert outbox_relay() == 0

    message = OutboxMessage.objects.get()
    assert (message.sent_at, message.claimed_until, message.attempts) == (None, None, 1)
    assert "127.0.0.1" in message.last_error


def test_the_command_relays_what_waits(own_redis):
    OutboxMessage.objects.create(task_name="tests.echo", kwargs={"n": 1})
    out = StringIO()

    call_command("relay_outbox", stdout=out)

    assert out.getvalue() == "Sent 1 task(s); 0 still pending.\n"
    assert queued_kwargs(own_redis) == [{"n": 1}]


def test_sent_rows_are_purged_after_a_day_and_pending_ones_never():
    now = timezone.now()
    old = OutboxMessage.objects.create(task_name="a", sent_at=now - timedelta(days=1, minutes=1))
    recent = OutboxMessage.objects.create(task_name="b", sent_at=now - timedelta(hours=23))
    pending = OutboxMessage.objects.create(task_name="c", created_at=now - timedelta(days=3))

    assert outbox_purge() == 1

    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not OutboxMessage.objects.filter(pk=old.pk).exists()


def test_eager_tasks_still_run_after_the_commit(
    eager_celery, org, owner, actor, mailoutbox, django_capture_on_commit_callbacks
):
    from orgconnectors.organizations.invitations import invitation_create

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        invitation_create(
            organization=org, email="new@acme.test", role="member", actor=actor(owner)
        )
        assert mailoutbox == []

    assert [mail.to for mail in mailoutbox] == [["new@acme.test"]]
    assert OutboxMessage.objects.get().sent_at is not None


def test_beat_runs_the_relay_every_few_seconds_and_the_purge_hourly(settings):
    relay = settings.CELERY_BEAT_SCHEDULE["outbox-relay"]
    assert (relay["task"], relay["schedule"]) == ("outbox.relay", 5.0)
    for entry in OUTBOX_BEAT_SCHEDULE.values():
        assert settings.CELERY_BEAT_SCHEDULE[entry["task"].replace(".", "-")] == entry
        assert entry["task"] in celery_app.tasks
