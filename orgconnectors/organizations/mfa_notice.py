"""When an organization starts requiring two-factor authentication: tell its owners and
auditors, then end their sessions that never passed a second factor."""

import logging
from importlib import import_module

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from orgconnectors.outbox.enqueue import enqueue

logger = logging.getLogger(__name__)

# allauth keeps, next to the records, whose they are.
_RECORDS_USER_SESSION_KEY = "account_authentication_methods_user"


def mfa_requirement_notify(*, organization_name: str, email: str) -> None:
    """Email one owner or auditor that the organization now requires a second factor (a
    worker, after the requirement is committed)."""
    send_mail(
        subject=f"{organization_name} now requires two-factor authentication",
        message=(
            f"{organization_name} now requires owners and auditors to sign in with a second "
            "factor on orgconnectors.\n\n"
            "Your sessions that were signed in without one have ended, and your API tokens in "
            f"{organization_name} no longer work. Sign in again with your authenticator app "
            f"(set one up under Two-factor authentication: {settings.ORGCONNECTORS_BASE_URL}"
            "/accounts/2fa/ if you have none), then create new tokens on the API tokens page."
        ),
        from_email=None,
        recipient_list=[email],
    )


def _passed_mfa(data: dict, user_id: str) -> bool:
    if data.get(_RECORDS_USER_SESSION_KEY) != user_id:
        return False
    records = data.get(AUTHENTICATION_METHODS_SESSION_KEY)
    return isinstance(records, list) and any(
        isinstance(r, dict) and r.get("method") == "mfa" for r in records
    )


def sessions_end_without_mfa(*, user_ids: set[str], keep_session_key: str = "") -> int:
    """End the signed-in sessions of these users that did not pass a second factor. Only a
    session store that can list its sessions (the database ones, the default) can be searched;
    with another, the pages still refuse such sessions, and this says so in the log."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        logger.warning(
            "Sessions are not in the database (%s): the sessions of people who must now use "
            "two-factor authentication cannot be listed; the pages refuse them instead.",
            settings.SESSION_ENGINE,
        )
        return 0
    ended = 0
    live = store.get_model_class().objects.filter(expire_date__gt=timezone.now())
    for session in live.only("session_key", "session_data").iterator():
        data = store().decode(session.session_data)
        user_id = data.get(SESSION_KEY)
        if user_id not in user_ids or session.session_key == keep_session_key:
            continue
        if _passed_mfa(data, user_id):
            continue
        # Through the store, so a cached copy goes too.
        store(session_key=session.session_key).delete()
        ended += 1
    return ended


def mfa_requirement_notify_and_end_sessions(
    *, organization, users: list, keep_session_key: str = ""
) -> None:
    """In the caller's transaction: one email per person, sent by a worker after the commit;
    then, after the commit, their sessions without a second factor end."""
    for user in users:
        enqueue(
            "organizations.mfa_requirement_notify",
            kwargs={"organization_name": organization.name, "email": user.email},
        )
    user_ids = {str(user.pk) for user in users}
    transaction.on_commit(
        lambda: sessions_end_without_mfa(user_ids=user_ids, keep_session_key=keep_session_key)
    )
