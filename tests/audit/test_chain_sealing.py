"""Events are written unsealed and linked into the chain right after their commit; the database
lets exactly that sealing through, once, and nothing else."""

import pytest
from django.db import IntegrityError, connection, transaction

from orgconnectors.audit.chain import GENESIS, audit_chain_verify, chain_seal, chain_seal_all
from orgconnectors.audit.models import AuditChainHead, AuditEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.tasks import chain_seal as chain_seal_task
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from tests.audit.conftest import raw

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the suite runs on PostgreSQL"
)


def unsealed(org, label="Docs") -> AuditEvent:
    """An event as a commit leaves it when its process dies before sealing it."""
    with transaction.atomic():
        return audit_record(
            organization=org,
            actor=Actor.system("owner@acme.test"),
            action="connector.updated",
            target=AuditTarget(type="connector", label=label),
        )


def refused(sql: str, params=()) -> str:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        raw(sql, params)
    return str(error.value)


def test_an_event_is_written_unsealed_and_takes_no_lock_on_the_chain(org):
    event = unsealed(org)

    stored = AuditEvent.objects.values("seq", "prev_hash", "hash").get(pk=event.pk)
    assert stored == {"seq": None, "prev_hash": None, "hash": None}
    assert not AuditChainHead.objects.filter(organization=org).exists()
    report = audit_chain_verify(organization=org)
    assert (report.intact, report.events, report.unsealed) == (True, 0, 1)


def test_the_sealer_links_committed_events_in_order_once(org):
    events = [unsealed(org, f"Docs {n}") for n in range(3)]

    assert chain_seal(organization_id=org.pk) == 3
    assert chain_seal(organization_id=org.pk) == 0

    sealed = list(AuditEvent.objects.order_by("seq").values_list("id", "seq", "prev_hash", "hash"))
    assert [row[:2] for row in sealed] == [(e.pk, n) for n, e in enumerate(events, start=1)]
    assert sealed[0][2] == GENESIS
    assert [row[2] for row in sealed[1:]] == [row[3] for row in sealed[:-1]]
    assert audit_chain_verify(organization=org).events == 3


def test_a_rolled_back_write_leaves_a_gap_in_ids_but_none_in_the_chain(org):
    first = unsealed(org, "kept")
    with pytest.raises(RuntimeError), transaction.atomic():
        unsealed(org, "rolled back")
        raise RuntimeError("the change failed")
    last = unsealed(org, "kept too")

    chain_seal(organization_id=org.pk)

    assert last.pk > first.pk + 1  # the rolled-back insert used an id
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]
    report = audit_chain_verify(organization=org)
    assert (report.intact, report.events, report.unsealed) == (True, 2, 0)


def test_the_periodic_sealer_seals_what_a_dead_process_left(org, other_org):
    unsealed(org)
    unsealed(other_org)

    assert chain_seal_task() == 2

    assert not AuditEvent.objects.filter(hash__isnull=True).exists()
    assert audit_chain_verify(organization=org).intact
    assert audit_chain_verify(organization=other_org).intact
    assert chain_seal_all() == 0


def test_a_sealed_event_cannot_be_sealed_again(org, write_event):
    event = write_event()

    message = refused(
        "UPDATE audit_auditevent SET hash = %s, prev_hash = %s WHERE id = %s",
        ["f" * 64, GENESIS, event.pk],
    )
    assert "audit events are append-only: UPDATE of event" in message
    message = refused("UPDATE audit_auditevent SET seq = NULL, prev_hash = NULL, hash = NULL")
    assert "append-only" in message


def test_sealing_cannot_carry_another_change_along(org):
    event = unsealed(org)

    message = refused(
        "UPDATE audit_auditevent SET seq = 1, prev_hash = %s, hash = %s, target_label = 'x' "
        "WHERE id = %s",
        [GENESIS, "f" * 64, event.pk],
    )
    assert "append-only" in message
    # Nor seal only part of it, leaving the rest to be set to anything later.
    assert "append-only" in refused("UPDATE audit_auditevent SET hash = %s", ["f" * 64])
    assert AuditEvent.objects.get(pk=event.pk).hash is None


def test_an_unsealed_event_cannot_be_deleted_or_edited(org):
    event = unsealed(org)

    assert "append-only" in refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert "append-only" in refused(
        "UPDATE audit_auditevent SET target_label = 'x' WHERE id = %s", [event.pk]
    )
