"""Signed digests of each organization's audit chain: published every hour and on demand, and
checked against the trail by `verify_audit_chain`.

A digest signs (with a key the database does not hold, audit/signing.py) where the chain stood:
the last event's position, id and hash, and the first 8 bytes of each event's hash since the
previous digest. Someone who rewrites an event and recomputes every hash after it keeps the
chain intact, but the head no longer matches what was signed, and the leaves say which event
changed first.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.utils import timezone

from orgconnectors.audit.chain import (
    GENESIS,
    HASHED_FIELDS,
    chain_seal,
    chain_seal_all,
    event_hash,
)
from orgconnectors.audit.models import AuditChainHead, AuditEvent
from orgconnectors.audit.services import audit_record
from orgconnectors.audit.signing import (
    SETTING,
    SigningKey,
    signature_valid,
    signing_key,
    verifying_keys,
)
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.models import Organization
from orgconnectors.reports.errors import ReportError
from orgconnectors.reports.models import AuditDigest

VERSION = 1
LEAF_BYTES = 8
SCHEDULE = "schedule"


class DigestsOff(ReportError):
    code = "audit_digests_off"
    status = 503


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def signed_message(digest: AuditDigest) -> bytes:
    """What the signature covers: canonical JSON of everything the digest states."""
    content = {
        "v": VERSION,
        "organization_id": digest.organization_id,
        "from_seq": digest.from_seq,
        "seq": digest.seq,
        "last_event_id": digest.last_event_id,
        "head_hash": digest.head_hash,
        "leaves_sha256": hashlib.sha256(bytes(digest.leaves)).hexdigest(),
        "signed_at": _instant(digest.signed_at),
        "key_id": digest.key_id,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def _key_or_refuse() -> SigningKey:
    key = signing_key()
    if key is None:
        raise DigestsOff(
            f"Signed audit digests are off: the operator has not set {SETTING}. "
            "The hash chain still records every event."
        )
    return key


def _sign(*, organization_id: int, head: AuditChainHead, requested_by: str) -> AuditDigest:
    key = _key_or_refuse()
    last_seq = (
        AuditDigest.objects.filter(organization_id=organization_id).aggregate(seq=Max("seq"))["seq"]
        or 0
    )
    leaves, from_seq = bytearray(), None
    rows = (
        AuditEvent.objects.filter(
            organization_id=organization_id, seq__gt=last_seq, seq__lte=head.appended
        )
        .order_by("seq")
        .values_list("seq", "hash")
    )
    for seq, hash_ in rows.iterator(chunk_size=5000):
        from_seq = seq if from_seq is None else from_seq
        leaves += bytes.fromhex(hash_)[:LEAF_BYTES]
    digest = AuditDigest(
        organization_id=organization_id,
        from_seq=head.appended + 1 if from_seq is None else from_seq,
        seq=head.appended,
        last_event_id=head.last_event_id or 0,
        head_hash=head.last_hash or GENESIS,
        leaves=bytes(leaves),
        signed_at=timezone.now(),
        key_id=key.key_id,
        requested_by=requested_by[:254],
    )
    digest.signature = key.sign(signed_message(digest))
    digest.save(force_insert=True)
    return digest


def _locked_organization(organization_id: int) -> None:
    # Publishers of one organization take turns, so two digests never cover the same events.
    # NO KEY UPDATE: events (whose foreign key takes KEY SHARE) are still written meanwhile.
    Organization.objects.select_for_update(no_key=True).filter(pk=organization_id).values_list(
        "pk"
    ).first()


def audit_digest_publish(*, organization: Organization, actor: Actor) -> AuditDigest:
    """A digest now, on demand. The request is itself an audit event, and the digest covers it."""
    _key_or_refuse()
    with transaction.atomic():
        _locked_organization(organization.pk)
        audit_record(
            organization=organization,
            actor=actor,
            action="audit.digest_published",
            target=organization,
        )
        # Its own event too, which is visible to this transaction: the digest covers it.
        chain_seal(organization_id=organization.pk)
        head = AuditChainHead.objects.get(organization_id=organization.pk)
        return _sign(organization_id=organization.pk, head=head, requested_by=actor.display)


def audit_digests_publish() -> int:
    """The hourly run: a digest for each organization whose chain moved since its last one."""
    if signing_key() is None:
        return 0
    chain_seal_all()  # what a commit left unsealed is signed now, not an hour later
    latest = (
        AuditDigest.objects.filter(organization_id=OuterRef("organization_id"))
        .order_by("-seq")
        .values("seq")[:1]
    )
    moved = (
        AuditChainHead.objects.annotate(digested=Subquery(latest))
        .filter(Q(digested__isnull=True) | Q(digested__lt=F("appended")), appended__gt=0)
        .values_list("organization_id", flat=True)
    )
    published = 0
    for organization_id in list(moved.order_by("organization_id")):
        with transaction.atomic():
            _locked_organization(organization_id)
            head = AuditChainHead.objects.get(organization_id=organization_id)
            if AuditDigest.objects.filter(organization_id=organization_id, seq=head.appended):
                continue  # published on demand meanwhile
            _sign(organization_id=organization_id, head=head, requested_by=SCHEDULE)
            published += 1
    return published


# Checking


@dataclass(frozen=True)
class DigestBreak:
    message: str
    event_id: int | None = None
    digest_id: int | None = None


@dataclass(frozen=True)
class DigestReport:
    digests: int
    events: int
    broken: DigestBreak | None
    latest_signed_at: datetime | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None


def _when(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _signed(digest: AuditDigest) -> str:
    return f"the digest signed at {_when(digest.signed_at)} (digest {digest.pk})"


def _event(row: dict) -> str:
    return f"event {row['id']} ({row['action']}, {_when(row['created_at'])})"


def _signature_break(digest: AuditDigest, key: SigningKey, trusted: dict) -> DigestBreak | None:
    public = trusted.get(digest.key_id)
    if public is None:
        return DigestBreak(
            f"{_signed(digest)} names the key {digest.key_id}, not this deployment's key "
            f"{key.key_id} nor a former one it trusts: it was not signed here, so it is refused.",
            digest_id=digest.pk,
        )
    if not signature_valid(public, signed_message(digest), digest.signature):
        return DigestBreak(
            f"{_signed(digest)} does not match its signature: the digest was altered after "
            "it was signed.",
            digest_id=digest.pk,
        )
    return None


def _leaf(digest: AuditDigest, seq: int) -> bytes:
    at = (seq - digest.from_seq) * LEAF_BYTES
    return bytes(digest.leaves)[at : at + LEAF_BYTES]


def _mismatch(pending: list[AuditDigest], row: dict, running: str) -> AuditDigest | None:
    """The first digest that says otherwise about this event (its leaf, or the head it was)."""
    seq = row["seq"]
    for digest in pending:  # by seq: those ending here, then the one that covers it, if any
        if digest.from_seq <= seq <= digest.seq:
            if _leaf(digest, seq) != bytes.fromhex(running)[:LEAF_BYTES]:
                return digest
        if digest.seq == seq and (running != digest.head_hash or row["id"] != digest.last_event_id):
            return digest
        if digest.seq > seq:
            break
    return None


def audit_digests_verify(*, organization: Organization, batch_size: int = 5000) -> DigestReport:
    """Check every digest's signature, then recompute the chain from the events' content and
    compare it with what each digest signed; report the first event that no longer matches."""
    key = _key_or_refuse()
    digests = list(AuditDigest.objects.filter(organization=organization).order_by("seq", "id"))
    latest = max((d.signed_at for d in digests), default=None)
    trusted = verifying_keys()
    for digest in digests:
        if broken := _signature_break(digest, key, trusted):
            return DigestReport(len(digests), 0, broken, latest)
    head = AuditChainHead.objects.filter(organization=organization).first()
    running = (head.purged_through_hash if head else "") or GENESIS
    pending = list(digests)
    columns = ("id", *HASHED_FIELDS)
    events = AuditEvent.objects.filter(organization=organization, seq__isnull=False)
    events = events.order_by("seq")
    checked, last_seq = 0, 0
    while True:
        rows = list(events.filter(seq__gt=last_seq).values(*columns)[:batch_size])
        for row in rows:
            running = event_hash(row, running)
            checked, last_seq = checked + 1, row["seq"]
            # Digests wholly before this event cover purged events: nothing left to compare.
            while pending and pending[0].seq < row["seq"]:
                pending.pop(0)
            if digest := _mismatch(pending, row, running):
                return DigestReport(len(digests), checked, DigestBreak(
                    f"{_event(row)} no longer matches {_signed(digest)}: it or the events "
                    "before it were edited, removed or inserted after the digest was signed.",
                    event_id=row["id"], digest_id=digest.pk,
                ), latest)  # fmt: skip
        if len(rows) < batch_size:
            break
    pending = [digest for digest in pending if digest.seq > last_seq]
    if pending:
        digest = pending[0]
        return DigestReport(len(digests), checked, DigestBreak(
            f"The trail ends at position {last_seq}, but {_signed(digest)} covers events "
            f"through position {digest.seq} (event {digest.last_event_id}): events were removed.",
            event_id=digest.last_event_id, digest_id=digest.pk,
        ), latest)  # fmt: skip
    return DigestReport(len(digests), checked, None, latest)


def digest_as_json(digest: AuditDigest) -> dict:
    """A digest as downloaded: its fields, and the exact message its signature covers."""
    return {
        "id": digest.pk,
        "organization_id": digest.organization_id,
        "from_seq": digest.from_seq,
        "seq": digest.seq,
        "last_event_id": digest.last_event_id,
        "head_hash": digest.head_hash,
        "leaves": base64.b64encode(bytes(digest.leaves)).decode(),
        "signed_at": _instant(digest.signed_at),
        "key_id": digest.key_id,
        "signature": digest.signature,
        "signed_message": signed_message(digest).decode(),
        "requested_by": digest.requested_by,
    }


def public_key_as_json() -> dict:
    key = _key_or_refuse()
    return {
        "algorithm": "Ed25519",
        "key_id": key.key_id,
        "public_key": key.public_base64,
        "public_key_pem": key.public_pem,
        "how_to_verify": (
            "Verify each digest's signature (base64) over the UTF-8 bytes of its signed_message "
            "with this public key; signed_message repeats the digest's fields, with leaves as "
            "their SHA-256."
        ),
    }


def audit_digests_download(*, organization: Organization, limit: int = 100) -> dict:
    """The newest digests of the organization, with the key that verifies them."""
    digests = AuditDigest.objects.filter(organization=organization).order_by("-seq", "-id")
    return {
        "organization": organization.slug,
        "public_key": public_key_as_json(),
        "digests": [digest_as_json(digest) for digest in digests[:limit]],
    }
