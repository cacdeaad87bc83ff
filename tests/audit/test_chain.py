"""Each organization's trail is a hash chain; verify_audit_chain finds the first broken link."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from orgconnectors.audit.chain import (
    GENESIS,
    HASHED_FIELDS,
    audit_chain_verify,
    chain_seal,
    event_hash,
)
from orgconnectors.audit.models import AuditChainHead, AuditEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from tests.audit.conftest import raw

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the suite runs on PostgreSQL"
)


def verify(slug: str | None = None) -> str:
    out = StringIO()
    call_command("verify_audit_chain", *(["--org", slug] if slug else []), stdout=out)
    return out.getvalue()


def test_each_event_links_to_the_one_before_it(org, write_event):
    first, second, third = write_event(), write_event(), write_event()

    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    head = AuditChainHead.objects.get(organization=org)
    assert (head.last_event_id, head.last_hash, head.appended) == (third.pk, third.hash, 3)


def test_the_hash_covers_the_content_as_the_database_gives_it_back(org):
    with transaction.atomic():
        event = audit_record(
            organization=org,
            actor=Actor(label="robot", ip="2001:DB8:0:0::7", user_agent="agent/1"),
            action="connector.updated",
            target=AuditTarget(type="connector", id=12, label="Ünïcode ✓", connector_id=12),
            changes={1: {"before": 0.1 + 0.2, "after": [1, "two", None]}, "big": 2**62},
        )
    chain_seal(organization_id=org.pk)  # what the commit would run

    stored = AuditEvent.objects.values(*HASHED_FIELDS, "prev_hash", "hash").get(pk=event.pk)
    assert stored["ip"] == "2001:db8::7"
    assert event_hash(stored, stored["prev_hash"]) == stored["hash"]
    assert audit_chain_verify(organization=org).intact


def test_organizations_have_separate_chains(org, other_org, write_event):
    mine = write_event(organization=org)
    theirs = write_event(organization=other_org)

    assert mine.prev_hash == theirs.prev_hash == GENESIS
    assert verify() == "acme: intact (1 events)\nglobex: intact (1 events)\n"


def test_an_empty_trail_is_intact(org):
    assert verify("acme") == "acme: intact (0 events)\n"


def test_an_edited_event_is_the_first_broken_link(org, write_event, triggers_off):
    events = [
        write_event(target=AuditTarget(type="connector", label=f"Connector {n}")) for n in range(5)
    ]
    triggers_off()
    raw("UPDATE audit_auditevent SET target_label = 'Harmless' WHERE id = %s", [events[2].pk])

    report = audit_chain_verify(organization=org)

    assert report.events == 2
    assert report.broken.event_id == events[2].pk
    assert report.broken.created_at == events[2].created_at
    assert report.broken.expected == events[2].hash
    assert report.broken.found != events[2].hash
    assert "edited" in report.broken.reason
    with pytest.raises(CommandError, match="1 audit chain"):
        out = StringIO()
        try:
            call_command("verify_audit_chain", "--org", "acme", stdout=out)
        finally:
            assert f"acme: BROKEN at event {events[2].pk} at " in out.getvalue()
            assert f"Expected {events[2].hash}, found {report.broken.found}." in out.getvalue()


def test_an_edit_that_recomputes_the_hash_still_breaks_the_next_link(
    org, write_event, triggers_off
):
    events = [
        write_event(target=AuditTarget(type="connector", label=f"Connector {n}")) for n in range(3)
    ]
    triggers_off()
    values = AuditEvent.objects.values(*HASHED_FIELDS).get(pk=events[1].pk)
    values["target_label"] = "Rewritten"
    forged = event_hash(values, events[1].prev_hash)
    raw(
        "UPDATE audit_auditevent SET target_label = 'Rewritten', hash = %s WHERE id = %s",
        [forged, events[1].pk],
    )

    report = audit_chain_verify(organization=org)

    assert report.broken.event_id == events[2].pk
    assert (report.broken.expected, report.broken.found) == (forged, events[1].hash)
    assert "removed or inserted" in report.broken.reason


def test_a_removed_event_breaks_the_link_after_it(org, write_event, triggers_off):
    events = [write_event() for _ in range(4)]
    triggers_off()
    raw("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])

    report = audit_chain_verify(organization=org)

    assert (report.events, report.broken.event_id) == (1, events[2].pk)
    assert (report.broken.expected, report.broken.found) == (events[0].hash, events[1].hash)


def test_removing_the_newest_events_is_noticed_too(org, write_event, triggers_off):
    events = [write_event() for _ in range(3)]
    triggers_off()
    raw("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])

    report = audit_chain_verify(organization=org)

    assert report.events == 2
    assert report.broken.event_id == events[2].pk
    assert (report.broken.expected, report.broken.found) == (events[2].hash, events[1].hash)
    assert "trail ends before" in report.broken.reason


def test_verification_reads_in_batches(org, write_event):
    for _ in range(7):
        write_event()

    assert audit_chain_verify(organization=org, batch_size=3).events == 7


def test_the_migration_chains_events_written_before_the_chain(org, write_event, triggers_off):
    from importlib import import_module

    events = [
        write_event(target=AuditTarget(type="connector", id=n, connector_id=n)) for n in (4, 5, 6)
    ]
    triggers_off()
    raw("UPDATE audit_auditevent SET prev_hash = '', hash = '', connector_ref = NULL")
    AuditChainHead.objects.all().delete()
    migration = import_module("orgconnectors.audit.migrations.0003_chain_existing_events")

    migration.chain_existing(apps, None)

    assert audit_chain_verify(organization=org).events == 3
    assert list(AuditEvent.objects.order_by("id").values_list("connector_ref", "hash")) == [
        (e.connector_ref, e.hash) for e in events
    ]
