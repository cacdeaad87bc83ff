from celery import shared_task

from orgconnectors.gateway.authorization.access_tokens import expired_tokens_delete


@shared_task(name="gateway.tokens_purge", ignore_result=True, soft_time_limit=600, time_limit=660)
def tokens_purge() -> int:
    return expired_tokens_delete()
