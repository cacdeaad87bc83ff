"""Celery tasks of organizations: thin, they take ids and call one service each."""

from smtplib import SMTPException

from celery import shared_task

from orgconnectors.organizations import invitations, mfa_notice, plan_requests

# Every task here sends one email: the same time limits (see oauth/tasks.py) and the same
# retries while the mail server refuses or is unreachable.
SENDS_ONE_EMAIL = {
    "ignore_result": True,
    "soft_time_limit": 60,
    "time_limit": 90,
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="organizations.plan_request_notify", **SENDS_ONE_EMAIL)
def plan_request_notify(*, request_id: int) -> int:
    return plan_requests.plan_request_notify(request_id=request_id)


@shared_task(name="organizations.invitation_send", **SENDS_ONE_EMAIL)
def invitation_send(*, invitation_id: int, token_encrypted: str, inviter: str) -> bool:
    return invitations.invitation_send(
        invitation_id=invitation_id, token_encrypted=token_encrypted, inviter=inviter
    )


@shared_task(name="organizations.mfa_requirement_notify", **SENDS_ONE_EMAIL)
def mfa_requirement_notify(*, organization_name: str, email: str) -> None:
    mfa_notice.mfa_requirement_notify(organization_name=organization_name, email=email)
