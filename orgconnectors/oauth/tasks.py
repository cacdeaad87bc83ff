"""Celery tasks of member OAuth: thin, they take ids (never tokens) and call one service each.

Every task is safe to run twice: a refresh claims its credential for one generation, a
revocation row is deleted once recorded, a notice is only sent while it is still true, a key
rotation is claimed with a lease.
"""

from smtplib import SMTPException

from celery import shared_task

from orgconnectors.oauth import flow, key_rotation_runs, notify, refresh, refresh_leases, revocation

# Every task has a soft time limit (the task hears it, lets go of its claim or records the
# failure) and a hard one (the worker process is replaced), both shorter than any lease the
# task works under, so a stuck task never outlives its claim.
QUICK = {"soft_time_limit": 60, "time_limit": 90}  # database work and one email


@shared_task(name="oauth.refresh_sweep", ignore_result=True, **QUICK)
def refresh_sweep() -> int:
    # A full batch means more are due: let another worker start on them at once.
    return refresh.oauth_refresh_sweep(
        enqueue=refresh_credential.delay, on_more_due=refresh_sweep.delay
    )


@shared_task(
    name="oauth.refresh_credential",
    ignore_result=True,
    soft_time_limit=refresh_leases.REFRESH_SOFT_LIMIT_SECONDS,
    time_limit=refresh_leases.REFRESH_HARD_LIMIT_SECONDS,
)
def refresh_credential(*, credential_id: int, generation: int) -> str:
    # A transient failure is not retried here: the credential is due again after a backoff
    # with jitter, written on its row, and the sweep picks it up then.
    return refresh.credential_refresh(credential_id=credential_id, generation=generation).value


# Two token requests, each ended by its egress deadline; a revocation's first try is left to
# itself for five minutes (revocations_pending) before the hourly retry takes it.
@shared_task(name="oauth.revoke_tokens", ignore_result=True, soft_time_limit=75, time_limit=90)
def revoke_tokens(*, revocation_id: int) -> bool:
    return revocation.token_revocation_send(revocation_id=revocation_id)


@shared_task(name="oauth.revocations_retry", ignore_result=True, **QUICK)
def revocations_retry() -> int:
    pending = revocation.revocations_pending()
    for revocation_id in pending:
        revoke_tokens.delay(revocation_id=revocation_id)
    return len(pending)


@shared_task(name="oauth.purge_pending_authorizations", ignore_result=True, **QUICK)
def purge_pending_authorizations() -> int:
    return flow.pending_authorizations_purge()


@shared_task(
    name="oauth.notify_reauthorize",
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=5,
    **QUICK,
)
def notify_reauthorize(*, connection_id: int) -> int:
    return notify.reauthorization_notify(connection_id=connection_id)


# No automatic retry: a failed rotation says why on its admin page and the operator starts
# another. A worker that dies mid-run leaves the run "running" until its lease runs out; then a
# second delivery of the task (acks late) claims it again, or a newer run takes its place.
@shared_task(
    name="oauth.key_rotation_run",
    ignore_result=True,
    soft_time_limit=key_rotation_runs.RUN_SOFT_LIMIT_SECONDS,
    time_limit=key_rotation_runs.RUN_HARD_LIMIT_SECONDS,
)
def key_rotation_run(*, rotation_id: int) -> str:
    rotation = key_rotation_runs.key_rotation_run(rotation_id=int(rotation_id))
    return rotation.status if rotation else "skipped"
