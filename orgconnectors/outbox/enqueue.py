"""The one way follow-up work is queued: `enqueue("app.task_name", kwargs=...)`.

The task is written to the outbox in the caller's transaction, so it exists exactly when the
work it follows up was committed; right after the commit it is published to the broker. When
the broker is down the row stays pending and the relay (`outbox.relay`, every few seconds, or
`manage.py relay_outbox`) sends it once the broker is back. Services name tasks and never import
a tasks module, so nothing below the tasks depends on them.

Delivery is at least once: a process that dies between publishing and marking the row sent
leaves it to be sent again after its claim lapses. Every task takes ids and claims its rows, so
a second delivery finds nothing left to do.
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orgconnectors.outbox.models import OutboxMessage
from orgconnectors.outbox.publish import CLAIM, publish_claimed


def enqueue(
    task_name: str,
    *,
    args: Sequence = (),
    kwargs: Mapping | None = None,
    countdown: float | None = None,
) -> int:
    """Queue `task_name` to run after the current transaction commits (at once without one);
    returns the outbox row's id. Arguments must be JSON: ids, never secrets in clear."""
    now = timezone.now()
    # Claimed by this process until it has tried to publish after the commit, so the relay
    # does not send it at the same time; a process that dies first lets the claim lapse.
    message = OutboxMessage.objects.create(
        task_name=task_name,
        args=list(args),
        kwargs=dict(kwargs or {}),
        eta=now + timedelta(seconds=countdown) if countdown else None,
        created_at=now,
        claimed_until=now + CLAIM,
    )
    # robust: the work is committed and its row will be sent; a failure here is logged and
    # never turns the person's successful request into an error page.
    transaction.on_commit(lambda: publish_claimed(message), robust=True)
    return message.pk
