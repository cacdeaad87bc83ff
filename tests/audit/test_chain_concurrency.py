"""Writers appending to one organization's trail at the same time keep one chain."""

import pytest
from django.db import connection, transaction

from orgconnectors.audit.chain import GENESIS, audit_chain_verify
from orgconnectors.audit.models import AuditEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


def append(organization_id: int, n: int):
    def call():
        from orgconnectors.organizations.models import Organization

        organization = Organization.objects.get(pk=organization_id)
        for i in range(3):
            with transaction.atomic():
                audit_record(
                    organization=organization,
                    actor=Actor.system(f"writer {n}"),
                    action="organization.plan_changed",
                    target=AuditTarget(type="organization", label=f"{n}.{i}"),
                )
        return n

    return call


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_keep_one_chain(run_concurrently):
    acme, globex = OrganizationFactory(slug="acme"), OrganizationFactory(slug="globex")
    calls = [append(acme.pk, n) for n in range(6)] + [append(globex.pk, n) for n in range(2)]

    outcomes = run_concurrently(*calls)

    assert outcomes == [0, 1, 2, 3, 4, 5, 0, 1]
    for organization, count in ((acme, 18), (globex, 6)):
        report = audit_chain_verify(organization=organization)
        assert (report.intact, report.events) == (True, count)
        links = list(
            AuditEvent.objects.filter(organization=organization)
            .order_by("id")
            .values_list("prev_hash", "hash")
        )
        # No two events link to the same predecessor: the chain did not fork.
        assert len({prev for prev, _ in links}) == count
        assert links[0][0] == GENESIS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_first_appends_of_a_new_organization_race_safely(run_concurrently):
    acme = OrganizationFactory(slug="acme")

    run_concurrently(*[append(acme.pk, n) for n in range(4)])

    assert audit_chain_verify(organization=acme).events == 12
