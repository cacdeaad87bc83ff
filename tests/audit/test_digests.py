"""Signed digests: an attacker who can write the database rewrites an event and every hash after
it; the chain still verifies, the digests do not, and they name the event."""

import base64
import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse

from orgconnectors.audit.chain import GENESIS, HASHED_FIELDS, audit_chain_verify, event_hash
from orgconnectors.audit.checks import signing_key_readable, signing_key_set
from orgconnectors.audit.models import AuditChainHead, AuditEvent
from orgconnectors.audit.signing import new_private_key_base64, signing_key
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.reports.digests import (
    DigestsOff,
    audit_digest_publish,
    audit_digests_publish,
    audit_digests_verify,
)
from orgconnectors.reports.models import AuditDigest
from orgconnectors.reports.retention import audit_retention_purge
from orgconnectors.reports.schedule import REPORTS_BEAT_SCHEDULE
from tests.api.conftest import token_client
from tests.audit.conftest import raw

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the suite runs on PostgreSQL"
)

ACME = "/api/v1/orgs/acme"


@pytest.fixture(autouse=True)
def key(settings):
    """A production-like key from the setting (not the dev key), for every test here."""
    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = new_private_key_base64()
    return signing_key()


def rewrite(event_id: int, **content) -> None:
    """What an attacker with write access does: triggers off inside their transaction, the
    event edited, and every hash from it to the head recomputed so the chain links again."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    target = AuditEvent.objects.get(pk=event_id)
    for name, value in content.items():
        raw(f"UPDATE audit_auditevent SET {name} = %s WHERE id = %s", [value, event_id])
    previous = target.prev_hash
    rows = AuditEvent.objects.filter(organization_id=target.organization_id, id__gte=event_id)
    for row in rows.order_by("id").values("id", *HASHED_FIELDS):
        forged = event_hash(row, previous)
        raw(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            [previous, forged, row["id"]],
        )
        previous = forged
    raw(
        "UPDATE audit_auditchainhead SET last_hash = %s WHERE organization_id = %s",
        [previous, target.organization_id],
    )
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def digest_triggers_off():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditdigest DISABLE TRIGGER audit_digest_append_only")


def verify_command(slug="acme") -> tuple[str, str | None]:
    out = StringIO()
    try:
        call_command("verify_audit_chain", "--org", slug, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_a_rewrite_that_recomputes_every_hash_passes_the_chain_but_not_the_digest(org, write_event):
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), tick=False):
        events = [
            write_event(target=AuditTarget(type="connector", label=f"Connector {n}"))
            for n in range(6)
        ]
    with time_machine.travel(datetime(2026, 12, 1, 11, 7, tzinfo=UTC), tick=False):
        assert audit_digests_publish() == 1
    write_event(target=AuditTarget(type="connector", label="After the digest"))

    rewrite(events[3].pk, target_label="Nothing to see")

    assert audit_chain_verify(organization=org).intact
    report = audit_digests_verify(organization=org)
    assert report.broken.event_id == events[3].pk
    assert report.broken.message.startswith(
        f"event {events[3].pk} (connector.updated, 2026-12-01 10:00:00 UTC) no longer matches "
        "the digest signed at 2026-12-01 11:07:00 UTC"
    )
    out, error = verify_command()
    assert f"acme: intact ({len(events) + 1} events)" in out
    assert f"acme: DIGEST MISMATCH: event {events[3].pk} (connector.updated" in out
    assert error.startswith("1 audit chain(s) broken")


def test_the_first_event_that_changed_is_named_across_several_digests(org, write_event):
    first = [write_event() for _ in range(3)]
    audit_digests_publish()
    second = [write_event() for _ in range(3)]
    audit_digests_publish()

    rewrite(second[1].pk, target_label="Edited")

    assert audit_digests_verify(organization=org).broken.event_id == second[1].pk
    assert first  # the first digest still matched: the name is the event, not the digest


def test_removing_the_newest_events_is_noticed(org, write_event, triggers_off):
    events = [write_event() for _ in range(4)]
    audit_digests_publish()
    triggers_off()
    raw("DELETE FROM audit_auditevent WHERE id >= %s", [events[2].pk])
    raw(
        "UPDATE audit_auditchainhead SET last_hash = %s, last_event_id = %s, appended = 2",
        [events[1].hash, events[1].pk],
    )

    assert audit_chain_verify(organization=org).intact
    broken = audit_digests_verify(organization=org).broken
    assert "The trail ends at position 2" in broken.message
    assert "events were removed" in broken.message


def test_an_untouched_trail_matches_its_digests_also_after_new_events(org, write_event):
    for _ in range(3):
        write_event()
    audit_digests_publish()
    write_event()
    audit_digests_publish()
    write_event()

    report = audit_digests_verify(organization=org, batch_size=2)

    assert (report.intact, report.digests, report.events) == (True, 2, 5)
    assert "acme: matches its 2 signed digest(s), the latest signed at" in verify_command()[0]


def test_digests_of_purged_events_do_not_break_the_remaining_trail(org, plan, write_event):
    org.plan = plan("free")
    org.save()
    now = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
    with time_machine.travel(now - timedelta(days=40), tick=False):
        write_event()
        write_event()
        audit_digests_publish()
        write_event()
    with time_machine.travel(now - timedelta(days=1), tick=False):
        write_event()
        audit_digests_publish()

    audit_retention_purge(now=now)

    assert AuditEvent.objects.filter(organization=org).count() == 2  # one kept, audit.purged
    assert audit_digests_verify(organization=org).intact


def test_a_tampered_digest_fails_its_signature(org, write_event):
    write_event()
    digest = audit_digest_publish(organization=org, actor=Actor.system("test"))
    digest_triggers_off()
    raw("UPDATE audit_auditdigest SET head_hash = %s WHERE id = %s", [GENESIS, digest.pk])

    broken = audit_digests_verify(organization=org).broken

    assert broken.digest_id == digest.pk
    assert "does not match its signature: the digest was altered" in broken.message


def test_a_digest_signed_by_another_key_is_refused(org, write_event, settings):
    write_event()
    ours = signing_key()
    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = new_private_key_base64()
    theirs = audit_digest_publish(organization=org, actor=Actor.system("forger"))
    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = base64.b64encode(
        ours.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    ).decode()

    broken = audit_digests_verify(organization=org).broken

    assert broken.digest_id == theirs.pk
    assert f"names the key {theirs.key_id}, not this deployment's key {ours.key_id}" in (
        broken.message
    )


def test_digests_are_append_only(org, write_event):
    write_event()
    digest = audit_digest_publish(organization=org, actor=Actor.system("test"))
    for statement in (
        "UPDATE audit_auditdigest SET head_hash = 'x' WHERE id = %s",
        "DELETE FROM audit_auditdigest WHERE id = %s",
    ):
        with pytest.raises(Exception, match="audit digests are append-only"):
            with transaction.atomic():
                raw(statement, [digest.pk])


def test_the_hourly_run_signs_each_chain_that_moved_once(org, other_org, write_event):
    write_event()
    write_event(organization=other_org)

    assert audit_digests_publish() == 2
    assert audit_digests_publish() == 0
    write_event()
    assert audit_digests_publish() == 1
    assert REPORTS_BEAT_SCHEDULE["audit-digests-publish"]["task"] == "audit.digests_publish"
    latest = AuditDigest.objects.filter(organization=org).order_by("-seq").first()
    head = AuditChainHead.objects.get(organization=org)
    assert (latest.seq, latest.from_seq, latest.requested_by) == (2, 2, "schedule")
    assert (latest.last_event_id, latest.head_hash) == (head.last_event_id, head.last_hash)


def test_the_command_signs_on_demand_and_records_who_asked(org, write_event):
    write_event()
    out = StringIO()

    call_command("publish_audit_digests", "--org", "acme", stdout=out)

    digest = AuditDigest.objects.get(organization=org)
    event = AuditEvent.objects.get(pk=digest.last_event_id)
    assert (event.action, event.actor_label) == (
        "audit.digest_published",
        "command:publish_audit_digests",
    )
    assert f"acme: signed through event {event.pk} (position 2)" in out.getvalue()


def test_without_a_key_outside_development_digests_are_off_and_check_deploy_says_so(
    org, settings, write_event
):
    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = ""
    settings.DEV_MODE = False
    settings.DEBUG = False
    write_event()

    assert signing_key() is None
    assert audit_digests_publish() == 0
    with pytest.raises(DigestsOff, match="ORGCONNECTORS_AUDIT_SIGNING_KEY"):
        audit_digest_publish(organization=org, actor=Actor.system("test"))
    with pytest.raises(CommandError, match="digests are off"):
        call_command("publish_audit_digests", stdout=StringIO())
    assert [w.id for w in signing_key_set()] == ["orgconnectors.W201"]
    assert "Signed digests are off" in verify_command()[0]


def test_development_signs_with_a_fixed_key_derived_from_the_secret_key(settings):
    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = ""
    settings.DEV_MODE = True

    assert signing_key() is not None
    assert signing_key().key_id == signing_key().key_id


def test_a_pem_key_works_and_an_unreadable_key_is_an_error(settings, key):
    pem = key.private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = pem
    assert signing_key().key_id == key.key_id

    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = "not a key"
    assert [e.id for e in signing_key_readable()] == ["orgconnectors.E201"]


def test_auditors_download_digests_that_verify_offline_with_the_public_key(
    org, auditor, actor, write_event, client
):
    write_event()
    audit_digests_publish()
    reader = token_client(auditor, actor=actor)

    body = reader.get(ACME + "/audit-digests").json()
    public = client.get("/api/v1/audit-public-key").json()

    assert public == body["public_key"]
    verifier = Ed25519PublicKey.from_public_bytes(base64.b64decode(public["public_key"]))
    (digest,) = body["digests"]
    verifier.verify(base64.b64decode(digest["signature"]), digest["signed_message"].encode())
    signed = json.loads(digest["signed_message"])
    assert {k: signed[k] for k in ("seq", "head_hash", "last_event_id", "key_id")} == {
        k: digest[k] for k in ("seq", "head_hash", "last_event_id", "key_id")
    }


def test_an_auditor_signs_a_digest_now_through_the_api(org, auditor, actor, write_event):
    write_event()
    reader = token_client(auditor, actor=actor)

    answer = reader.post(ACME + "/audit-digests")

    assert answer.status_code == 201
    event = AuditEvent.objects.get(pk=answer.json()["last_event_id"])
    assert (event.action, event.actor_label) == ("audit.digest_published", "auditor@acme.test")


def test_members_and_strangers_do_not_get_the_digests(org, member, other_owner, actor):
    assert token_client(member, actor=actor).get(ACME + "/audit-digests").status_code == 403
    assert token_client(other_owner, actor=actor).get(ACME + "/audit-digests").status_code == 404


def test_the_digests_page_lists_them_and_its_button_signs_one(org, auditor, client, write_event):
    write_event()
    client.force_login(auditor.user)
    url = reverse("audit_digests", args=["acme"])

    answer = client.post(url, follow=True)

    page = answer.content.decode()
    digest = AuditDigest.objects.get(organization=org)
    assert f"the trail through event {digest.last_event_id} is in digest {digest.pk}" in page
    assert signing_key().public_base64 in page
    download = client.get(reverse("audit_digests_json", args=["acme"]))
    assert download["Content-Disposition"] == 'attachment; filename="acme-audit-digests.json"'
    assert json.loads(download.content)["digests"][0]["id"] == digest.pk


def test_after_a_key_change_the_former_public_key_keeps_old_digests_verifiable(
    org, write_event, settings, key
):
    write_event()
    old = audit_digest_publish(organization=org, actor=Actor.system("test"))
    settings.ORGCONNECTORS_AUDIT_SIGNING_KEY = new_private_key_base64()
    write_event()
    audit_digests_publish()
    assert audit_digests_verify(organization=org).broken.digest_id == old.pk

    settings.ORGCONNECTORS_AUDIT_FORMER_PUBLIC_KEYS = [key.public_base64]

    assert audit_digests_verify(organization=org).intact
