"""A service whose transaction PostgreSQL kills for a deadlock runs again instead of failing."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.organizations.models import Organization
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


def crossing(first_id: int, second_id: int, both_locked_first: threading.Barrier, attempts: list):
    """Locks one organization, waits until the other caller has locked the other, then wants
    that one too: on the first attempt the two callers deadlock, as two services can."""

    @retry_on_conflict
    def service() -> str:
        attempts.append(first_id)
        with transaction.atomic():
            Organization.objects.select_for_update().get(pk=first_id)
            if len(attempts) <= 2:
                both_locked_first.wait(timeout=10)
            Organization.objects.select_for_update().get(pk=second_id)
            Organization.objects.filter(pk=first_id).update(name=f"changed by {first_id}")
        return "done"

    return service


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_deadlocked_service_is_run_again_and_both_callers_succeed(run_concurrently):
    a, b = OrganizationFactory(slug="a"), OrganizationFactory(slug="b")
    barrier, attempts = threading.Barrier(2), []

    outcomes = run_concurrently(
        crossing(a.pk, b.pk, barrier, attempts), crossing(b.pk, a.pk, barrier, attempts)
    )

    assert outcomes == ["done", "done"]
    assert len(attempts) == 3  # PostgreSQL chose one victim; it ran once more
    assert set(Organization.objects.values_list("name", flat=True)) == {
        f"changed by {a.pk}",
        f"changed by {b.pk}",
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_inside_a_callers_transaction_the_deadlock_is_the_callers_to_retry(run_concurrently):
    a, b = OrganizationFactory(slug="a"), OrganizationFactory(slug="b")
    barrier, attempts = threading.Barrier(2), []
    first, second = crossing(a.pk, b.pk, barrier, attempts), crossing(b.pk, a.pk, barrier, attempts)

    def inside_a_transaction():
        with transaction.atomic():
            return first()

    outcomes = run_concurrently(inside_a_transaction, second)

    assert len(attempts) in (2, 3)
    # Either the outer caller was the victim and got the error, or the other one was and
    # ran again; never a retry of a transaction that is not the service's own.
    if isinstance(outcomes[0], OperationalError):
        assert outcomes[1] == "done" and len(attempts) == 2
    else:
        assert outcomes == ["done", "done"] and len(attempts) == 3
