"""The database itself refuses to change or remove audit events."""

import pytest
from django.db import IntegrityError, connection, transaction

from orgconnectors.audit.append_only import purge_permitted
from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.audit_target import AuditTarget
from tests.audit.conftest import raw
from tests.factories import MembershipFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the suite runs on PostgreSQL"
)


def refused(sql: str, params=()) -> str:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        raw(sql, params)
    return str(error.value)


def test_an_update_through_a_raw_cursor_is_refused(write_event):
    event = write_event(target=AuditTarget(type="connector", label="Docs"))

    message = refused("UPDATE audit_auditevent SET target_label = 'Wiki' WHERE id = %s", [event.pk])

    assert "audit events are append-only: UPDATE of event" in message
    event.refresh_from_db()
    assert event.target_label == "Docs"


def test_a_delete_through_a_raw_cursor_is_refused(write_event):
    event = write_event()

    message = refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])

    assert "audit events are append-only: DELETE of event" in message
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_is_refused_as_well(write_event):
    event = write_event()

    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="connector.removed")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    assert AuditEvent.objects.get(pk=event.pk).action == "connector.updated"


def test_deleting_a_user_only_clears_the_actor_the_label_stays(org, actor):
    from orgconnectors.audit.services import audit_record

    leaver = MembershipFactory(organization=org, user__email="leaver@acme.test")
    with transaction.atomic():
        event = audit_record(
            organization=org, actor=actor(leaver), action="organization.plan_changed", target=org
        )

    leaver.user.delete()

    event.refresh_from_db()
    assert (event.actor_id, event.actor_label) == (None, "leaver@acme.test")


def test_clearing_the_actor_together_with_anything_else_is_refused(org, actor, write_event):
    from orgconnectors.audit.services import audit_record

    person = MembershipFactory(organization=org)
    with transaction.atomic():
        event = audit_record(
            organization=org, actor=actor(person), action="organization.plan_changed", target=org
        )

    refused(
        "UPDATE audit_auditevent SET actor_id = NULL, actor_label = 'someone else' WHERE id = %s",
        [event.pk],
    )
    refused("UPDATE audit_auditevent SET actor_id = %s WHERE id = %s", [person.user_id, event.pk])


def test_the_purge_permit_allows_deleting_only_inside_its_block(write_event):
    kept, purged = write_event(), write_event()

    with transaction.atomic():
        with purge_permitted():
            assert raw("DELETE FROM audit_auditevent WHERE id = %s", [purged.pk]) == 1
        # Withdrawn at the end of the block, though the transaction goes on.
        refused("DELETE FROM audit_auditevent WHERE id = %s", [kept.pk])

    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_purge_permit_never_covers_updates(write_event):
    event = write_event()

    with transaction.atomic(), purge_permitted():
        refused("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [event.pk])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_purge_permit_needs_a_transaction():
    with pytest.raises(RuntimeError, match="inside a transaction"):
        with purge_permitted():
            pass
