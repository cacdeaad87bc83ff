from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A task to send to the broker, written in the transaction whose work it follows up.

    Pending while `sent_at` is empty. Whoever publishes it first claims it until
    `claimed_until`; a claim past that time is abandoned and the relay takes the row again.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    # A countdown is turned into a time when the work is asked for, so a late relay does not
    # push the task later still.
    eta = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            # The relay reads only pending rows; sent ones wait a day to be purged.
            models.Index(fields=["id"], name="outbox_pending", condition=Q(sent_at__isnull=True)),
            models.Index(
                fields=["sent_at"], name="outbox_sent", condition=Q(sent_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "pending"
        return f"{self.task_name} #{self.pk} ({state})"
