"""Celery tasks of the outbox. Beat publishes these straight to the broker: the relay never
goes through the outbox it empties."""

from celery import shared_task

from orgconnectors.outbox import publish


@shared_task(name="outbox.relay", ignore_result=True)
def relay() -> int:
    return publish.outbox_relay()


@shared_task(name="outbox.purge", ignore_result=True)
def purge() -> int:
    return publish.outbox_purge()
