"""Celery tasks of the outbox. Beat publishes these straight to the broker: the relay never
goes through the outbox it empties."""

from celery import shared_task

from orgconnectors.outbox import publish


# Inside the 30 s claim the relay puts on the rows it takes, so no row is sent twice.
@shared_task(name="outbox.relay", ignore_result=True, soft_time_limit=20, time_limit=25)
def relay() -> int:
    return publish.outbox_relay()


@shared_task(name="outbox.purge", ignore_result=True, soft_time_limit=300, time_limit=330)
def purge() -> int:
    return publish.outbox_purge()
