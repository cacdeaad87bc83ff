"""The limit holds when one member connects from several places at the same instant."""

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.errors import ConnectionLimitReached
from orgconnectors.connectors.models import Connection
from tests.factories import ConnectorFactory, MembershipFactory, OrganizationFactory

THREADS = 8
concurrent = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def enable_all_at_once(run_concurrently, membership, connectors, actor):
    calls = [
        lambda connector=connector: connection_enable(
            membership=membership, connector=connector, actor=actor(membership)
        )
        for connector in connectors
    ]
    outcomes = run_concurrently(*calls)
    unexpected = [
        o
        for o in outcomes
        if isinstance(o, BaseException) and not isinstance(o, ConnectionLimitReached)
    ]
    assert unexpected == []
    return outcomes


@concurrent
def test_only_one_of_many_simultaneous_connections_succeeds_on_free(plan, actor, run_concurrently):
    org = OrganizationFactory(plan=plan("free"))
    member = MembershipFactory(organization=org)
    connectors = ConnectorFactory.create_batch(THREADS, organization=org)

    outcomes = enable_all_at_once(run_concurrently, member, connectors, actor)

    succeeded = [o for o in outcomes if isinstance(o, Connection)]
    refused = [o for o in outcomes if isinstance(o, ConnectionLimitReached)]
    assert len(succeeded) == 1
    assert len(refused) == THREADS - 1
    assert Connection.objects.filter(membership=member, state__in=Connection.IN_USE).count() == 1
    assert AuditEvent.objects.filter(action="connection.enabled").count() == 1


@concurrent
def test_exactly_the_override_limit_of_simultaneous_connections_succeeds_on_enterprise(
    plan, actor, run_concurrently
):
    org = OrganizationFactory(plan=plan("enterprise"), connection_limit_override=3)
    member = MembershipFactory(organization=org)
    connectors = ConnectorFactory.create_batch(THREADS, organization=org)

    outcomes = enable_all_at_once(run_concurrently, member, connectors, actor)

    assert sum(isinstance(o, Connection) for o in outcomes) == 3
    assert sum(isinstance(o, ConnectionLimitReached) for o in outcomes) == THREADS - 3
    assert Connection.objects.filter(membership=member, state__in=Connection.IN_USE).count() == 3
    assert AuditEvent.objects.filter(action="connection.enabled").count() == 3
