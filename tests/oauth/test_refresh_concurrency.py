"""One refresh per credential, however many workers and callers want one at the same time.

Threads with their own database connections stand for worker processes, so these tests commit:
`transaction=True`, with `serialized_rollback` to get the plans of the data migration back.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh import credential_refresh
from orgconnectors.oauth.refresh_on_demand import credential_fresh_access_token
from orgconnectors.oauth.refresh_outcomes import Outcome
from orgconnectors.oauth.vault import access_token_of, refresh_token_of

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the in-memory SQLite of tests fails at once on a lock instead of waiting",
    ),
]


@pytest.fixture
def credential(member, oauth_connector, provider, authorize) -> OAuthCredential:
    return authorize(member, oauth_connector).connection.oauth_credential


def _near_expiry(credential: OAuthCredential):
    # Due for the sweep, and within the minute in which a caller refreshes before using it.
    return time_machine.travel(credential.expires_at - timedelta(seconds=30), tick=False)


def _in_thread(call, results: list, index: int) -> threading.Thread:
    def work():
        try:
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back for the test to judge
            results[index] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_two_workers_and_a_caller_released_together_make_one_refresh(
    credential, provider, run_concurrently
):
    refresh = lambda: credential_refresh(  # noqa: E731
        credential_id=credential.pk, generation=credential.generation
    )
    wanted = lambda: credential_fresh_access_token(connection=credential.connection_id)  # noqa: E731

    with _near_expiry(credential):
        first, second, token = run_concurrently(refresh, refresh, wanted)

    assert provider.refresh_calls == 1
    assert sorted([first, second], key=str) in (
        [Outcome.REFRESHED, Outcome.SKIPPED],
        [Outcome.SKIPPED, Outcome.SKIPPED],  # the caller's refresh came first
    )
    stored = OAuthCredential.objects.get()
    assert token == access_token_of(stored)
    assert refresh_token_of(stored) in provider.refresh
    assert stored.generation == credential.generation + 1


def test_workers_arriving_while_a_refresh_is_in_flight_wait_for_it_or_step_aside(
    credential, provider
):
    in_flight, release = threading.Event(), threading.Event()

    def hold_the_request():
        in_flight.set()
        assert release.wait(10)

    provider.during_refresh = hold_the_request
    results: list = [None] * 3
    with _near_expiry(credential):
        holder = _in_thread(lambda: credential_refresh(credential_id=credential.pk), results, 0)
        assert in_flight.wait(10)
        late_worker = _in_thread(
            lambda: credential_refresh(credential_id=credential.pk), results, 1
        )
        late_worker.join(10)
        caller = _in_thread(
            lambda: credential_fresh_access_token(connection=credential.connection_id),
            results,
            2,
        )
        release.set()
        holder.join(10)
        caller.join(30)

    assert results[:2] == [Outcome.REFRESHED, Outcome.SKIPPED]
    assert results[2] == access_token_of(OAuthCredential.objects.get())
    assert provider.refresh_calls == 1


def test_no_transaction_holds_the_credential_while_the_server_is_asked(credential, provider):
    seen: dict = {}

    def look_from_another_connection():
        try:
            with transaction.atomic():
                row = (
                    OAuthCredential.objects.select_for_update(nowait=True)
                    .filter(pk=credential.pk)
                    .first()
                )
                seen["lease_committed"] = row.refresh_lease_until is not None
                seen["locked"] = False
        except DatabaseError:
            seen["locked"] = True
        finally:
            connection.close()

    provider.during_refresh = look_from_another_connection
    with _near_expiry(credential):
        outcome = credential_refresh(credential_id=credential.pk)

    assert outcome is Outcome.REFRESHED
    assert seen == {"lease_committed": True, "locked": False}
