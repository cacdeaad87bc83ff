"""A refresh saves its answer only while it still holds its lease, not only its generation.

The authorization server's hook runs while the token request is out: it moves the clock past
the lease (time_machine, no sleeping) and, in the second test, lets another worker claim the
credential. Threads with their own connections read what the test commits: `transaction=True`.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh import credential_refresh
from orgconnectors.oauth.refresh_leases import credential_claim, refresh_lease
from orgconnectors.oauth.refresh_outcomes import Outcome
from orgconnectors.oauth.vault import refresh_token_of

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks across connections"),
]


@pytest.fixture
def credential(member, oauth_connector, provider, authorize) -> OAuthCredential:
    return authorize(member, oauth_connector).connection.oauth_credential


def test_an_answer_that_lands_after_the_lease_ran_out_is_discarded(credential, provider):
    before = refresh_token_of(credential)
    with time_machine.travel(credential.expires_at - timedelta(seconds=30), tick=False) as clock:
        provider.during_refresh = lambda: clock.shift(refresh_lease() + timedelta(seconds=1))
        outcome = credential_refresh(credential_id=credential.pk)

    assert provider.refresh_calls == 1
    assert outcome is Outcome.SKIPPED
    stored = OAuthCredential.objects.get()
    assert stored.generation == credential.generation
    assert refresh_token_of(stored) == before


def test_a_second_worker_that_claimed_after_the_lease_ran_out_keeps_the_credential(
    credential, provider
):
    taken_over: dict = {}

    def lease_runs_out_and_another_worker_claims(clock):
        clock.shift(refresh_lease() + timedelta(seconds=1))
        try:
            taken_over["claim"] = credential_claim(credential.pk)
        finally:
            connection.close()

    with time_machine.travel(credential.expires_at - timedelta(seconds=30), tick=False) as clock:
        provider.during_refresh = lambda: lease_runs_out_and_another_worker_claims(clock)
        outcome = credential_refresh(credential_id=credential.pk)

    assert outcome is Outcome.SKIPPED
    claim = taken_over["claim"]
    assert claim is not None and claim.generation == credential.generation
    stored = OAuthCredential.objects.get()
    # The second worker's lease stands and the generation it claimed is still the row's.
    assert stored.refresh_lease_token == claim.lease_token
    assert stored.generation == claim.generation
