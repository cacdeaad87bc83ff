"""A hot organization: many audited writers and the health workers at once, on real PostgreSQL.

Before the chain was sealed after commit, every audited write locked the organization's chain
head late in its transaction, after the rows it had locked already: registering (organization
locked, then the head) and renaming or recording a health change (head locked, then the event's
foreign key on the organization) waited for each other, and PostgreSQL killed one of them.
"""

import threading

import pytest
from django.db import connection

from orgconnectors.audit.chain import audit_chain_verify
from orgconnectors.audit.models import AuditEvent
from orgconnectors.audit.signing import new_private_key_base64
from orgconnectors.connectors.connections import connection_disable, connection_enable
from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.services import connector_register, connector_update
from orgconnectors.health.outcomes import Outcome, ProbeResult
from orgconnectors.health.results import health_result_record
from orgconnectors.organizations.models import Membership, Organization, Plan
from orgconnectors.reports.digests import audit_digest_publish, audit_digests_verify
from tests.factories import ConnectorFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)

WRITERS = 16
ROUNDS = 3  # each round: register, rename, enable, disable — four audited operations
HEALTH_WORKERS = 2
CYCLES = 2  # each cycle: three failures (down) then a success (back up), per connector
REFUSED = ProbeResult(Outcome.UNREACHABLE, error="connection refused")
HEALTHY = ProbeResult(Outcome.HEALTHY, latency_ms=120)


def writer(organization_id: int, membership_id: int, n: int, errors: list, done: list):
    def run():
        organization = Organization.objects.get(pk=organization_id)
        membership = Membership.objects.get(pk=membership_id)
        actor = _actor(membership)
        for r in range(ROUNDS):
            steps = (
                lambda: connector_register(
                    organization=organization,
                    actor=actor,
                    name=f"Writer {n} round {r}",
                    url=f"https://w{n}-{r}.example.com/mcp",
                ),
                lambda: connector_update(connector=connector(), actor=actor, name=f"W{n}.{r}"),
                lambda: connection_enable(
                    membership=membership, connector=connector(), actor=actor
                ),
                lambda: connection_disable(
                    membership=membership, connector=connector(), actor=actor
                ),
            )

            def connector(r=r):
                return Connector.objects.get(url=f"https://w{n}-{r}.example.com/mcp")

            for step in steps:
                _attempt(step, errors, done)

    return run


def health_worker(connector_ids: list[int], errors: list, transitions: list):
    def run():
        for _ in range(CYCLES):
            for connector_id in connector_ids:
                for result in (REFUSED, REFUSED, REFUSED, HEALTHY):
                    before = Connector.objects.get(pk=connector_id).status
                    if _attempt(
                        lambda result=result, connector_id=connector_id: health_result_record(
                            connector_id=connector_id, result=result
                        ),
                        errors,
                        [],
                    ):
                        after = Connector.objects.get(pk=connector_id).status
                        transitions.extend([connector_id] if after != before else [])

    return run


def _actor(membership):
    from orgconnectors.core.actor import Actor

    return Actor(user=membership.user, ip="203.0.113.7", user_agent="contention/1")


_lock = threading.Lock()


def _attempt(step, errors: list, done: list) -> bool:
    try:
        step()
    except Exception as error:  # noqa: BLE001 - every failure is what the test counts
        with _lock:
            errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")
        return False
    with _lock:
        done.append(1)
    return True


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sixteen_writers_and_two_health_workers_never_deadlock_and_keep_one_chain(
    run_concurrently, settings
):
    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = new_private_key_base64()
    org = OrganizationFactory(slug="hot", plan=Plan.objects.get(code="enterprise"))
    members = [MembershipFactory(organization=org, role="owner") for _ in range(WRITERS)]
    checked = [ConnectorFactory(organization=org, status="healthy") for _ in range(4)]
    errors, done, transitions = [], [], []
    calls = [writer(org.pk, m.pk, n, errors, done) for n, m in enumerate(members)]
    calls += [
        health_worker([c.pk for c in checked[w::HEALTH_WORKERS]], errors, transitions)
        for w in range(HEALTH_WORKERS)
    ]

    outcomes = run_concurrently(*calls, timeout=300)

    assert outcomes == [None] * len(calls)
    assert errors == []
    assert len(done) == WRITERS * ROUNDS * 4
    assert len(transitions) == HEALTH_WORKERS * 2 * CYCLES * 2  # down and back up
    # (Imported here so that the code before the sealer fails on the errors above.)
    from orgconnectors.audit.chain import chain_seal

    # Every commit sealed its own events; nothing is left for the periodic sealer.
    assert chain_seal(organization_id=org.pk) == 0
    report = audit_chain_verify(organization=org)
    assert (report.intact, report.unsealed) == (True, 0)
    assert report.events == AuditEvent.objects.filter(organization=org).count()
    assert report.events == len(done) + len(transitions)
    # A digest signed now covers all of it, and the trail still matches it.
    audit_digest_publish(organization=org, actor=_actor(members[0]))
    digests = audit_digests_verify(organization=org)
    assert (digests.intact, digests.events) == (True, report.events + 1)
