"""Celery tasks of identity: thin, they take ids and call one service each."""

from celery import shared_task

from orgconnectors.identity import saml_refresh

# One metadata fetch is bounded by the egress deadline (saml_metadata.FETCH_DEADLINE_SECONDS);
# the rest is a few queries.
QUICK = {"soft_time_limit": 60, "time_limit": 90}


@shared_task(name="identity.saml_metadata_refresh_all", ignore_result=True, **QUICK)
def saml_metadata_refresh_all() -> int:
    return saml_refresh.saml_metadata_refresh_all(enqueue=saml_metadata_refresh.delay)


@shared_task(name="identity.saml_metadata_refresh", ignore_result=True, **QUICK)
def saml_metadata_refresh(*, sso_id: int) -> str:
    return saml_refresh.saml_metadata_refresh(sso_id=sso_id).outcome
