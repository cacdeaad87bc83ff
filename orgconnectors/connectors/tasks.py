"""Celery tasks of connectors: thin, they take ids and call one service each."""

from smtplib import SMTPException

from celery import shared_task

from orgconnectors.connectors import approval_notify


@shared_task(
    name="connectors.notify_approvers",
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=10,
    retry_jitter=True,
    max_retries=3,
    # A call waits at most 280 s: an email later than that tells nobody anything.
    soft_time_limit=30,
    time_limit=45,
)
def notify_approvers(*, approval_id: int) -> int:
    return approval_notify.call_approval_approvers_notify(approval_id=approval_id)
