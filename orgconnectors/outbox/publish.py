"""Publishing outbox rows to the broker: right after the commit, and by the relay.

The relay claims pending rows with SELECT ... FOR UPDATE SKIP LOCKED and a claim time written in
the same short transaction, so relays running at once never take the same row; a row claimed
but not sent by the end of its claim (its publisher died) is taken again.
"""

import importlib
import importlib.util
import logging
from datetime import timedelta

from django.apps import apps
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from orgconnectors.celery import app as celery_app
from orgconnectors.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

# Publishing one message takes milliseconds; a claim this long only matters when its holder died.
CLAIM = timedelta(seconds=30)
RELAY_BATCH = 100
# One relay run stops after this many rows, so a huge backlog is shared with the next runs.
RELAY_MAX = 2_000
KEEP_SENT = timedelta(days=1)

# What a broker that is down, restarting or unreachable raises: the row waits for the relay.
BROKER_ERRORS = (OperationalError, RedisError, OSError)


def _task(name: str):
    """The registered task `name`, importing the apps' tasks modules if need be (what a worker
    does at start; not through Celery's loader, whose hook sets Django up again)."""
    if name not in celery_app.tasks:
        for config in apps.get_app_configs():
            if importlib.util.find_spec(f"{config.name}.tasks") is not None:
                importlib.import_module(f"{config.name}.tasks")
    return celery_app.tasks[name]


def _publish(message: OutboxMessage) -> None:
    if celery_app.conf.task_always_eager:
        # Eager (tests, a single process): send_task would bypass eagerness, so run it here.
        _task(message.task_name).apply(args=message.args, kwargs=message.kwargs)
        return
    # No publish retries here: after a commit the person is waiting, and the relay retries.
    celery_app.send_task(
        message.task_name,
        args=message.args,
        kwargs=message.kwargs,
        eta=message.eta,
        retry=False,
    )


def _send(message: OutboxMessage) -> bool:
    """Publish one claimed row; True when the broker took it."""
    try:
        _publish(message)
    except BROKER_ERRORS as error:
        OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            claimed_until=None, attempts=F("attempts") + 1, last_error=str(error)[:300]
        )
        logger.warning(
            "The broker did not take task %s (outbox #%s): %s. It stays in the outbox and the "
            "relay sends it when the broker is back.",
            message.task_name,
            message.pk,
            error,
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk).update(
        sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    return True


def publish_claimed(message: OutboxMessage) -> bool:
    """Right after the commit that wrote the row: publish it, unless its claim was lost (the
    transaction outlasted the claim and the relay took the row)."""
    renewed = OutboxMessage.objects.filter(
        pk=message.pk, sent_at__isnull=True, claimed_until=message.claimed_until
    ).update(claimed_until=timezone.now() + CLAIM)
    if not renewed:
        return False
    return _send(message)


def _claim(batch: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(claimed_until=now + CLAIM)
    return ids


def outbox_relay(*, batch: int = RELAY_BATCH, most: int = RELAY_MAX) -> int:
    """Send pending rows, oldest first; returns how many the broker took. Stops at the first
    broker error (the rest of the batch is released for the next run)."""
    sent = 0
    while sent < most:
        ids = _claim(min(batch, most - sent))
        if not ids:
            break
        messages = list(OutboxMessage.objects.filter(pk__in=ids).order_by("pk"))
        for index, message in enumerate(messages):
            if not _send(message):
                rest = [m.pk for m in messages[index + 1 :]]
                OutboxMessage.objects.filter(pk__in=rest, sent_at__isnull=True).update(
                    claimed_until=None
                )
                return sent
            sent += 1
        if len(ids) < batch:
            break
    if sent:
        logger.info("The outbox relay sent %s task(s).", sent)
    return sent


def outbox_purge() -> int:
    """Forget rows sent more than a day ago."""
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=timezone.now() - KEEP_SENT).delete()
    return deleted


def outbox_pending_count() -> int:
    """How many tasks wait to be sent (the outbox's depth)."""
    return OutboxMessage.objects.filter(sent_at__isnull=True).count()
