"""The hash chain of each organization's audit trail: how an event is hashed, appended, checked.

hash = sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the event's content,
its predecessor's hash and the format version. The actor's user id is left out on purpose: it
is the one column Django updates (to NULL) when a user is deleted; actor_label stays hashed.
Changing anything here breaks every existing chain: add a new version instead.

Writing and linking are apart. A service's transaction inserts its event unsealed (seq,
prev_hash, hash NULL), taking no lock another writer waits for; right after it commits, the
sealer takes the chain head for a few milliseconds and links every committed unsealed event of
the organization, in id order, giving each the next seq. The chain's order is therefore the
order events were sealed in, walked by seq; an id left unused by a rolled-back insert is in no
chain. A periodic task seals what a dead process left (audit.chain_seal, every minute).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction

from orgconnectors.audit.models import AuditChainHead, AuditEvent
from orgconnectors.core.transactions import retry_on_conflict

VERSION = 1
GENESIS = "0" * 64
HASHED_FIELDS = (
    "organization_id",
    "seq",
    "actor_label",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "target_label",
    "connector_ref",
    "member_ref",
    "ip",
    "user_agent",
    "changes",
    "created_at",
)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(values: dict, prev_hash: str) -> str:
    """The hash of an event given its HASHED_FIELDS (as stored) and its predecessor's hash."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["created_at"] = _instant(values["created_at"])
    # inet columns may come back as ipaddress objects; the text form is what was written.
    content["ip"] = None if values["ip"] is None else str(values["ip"])
    content["prev_hash"] = prev_hash
    content["v"] = VERSION
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def locked_head(organization_id: int) -> AuditChainHead:
    """The organization's chain head, locked until the caller's transaction ends. Only the
    sealer and the retention purge take it, each for a short transaction that takes no other
    lock first: writers of audited changes never wait for it."""
    heads = AuditChainHead.objects.select_for_update()
    head = heads.filter(organization_id=organization_id).first()
    if head is None:
        # Two first seals may race to create it; the loser's insert is ignored, and its
        # SELECT ... FOR UPDATE then waits for the winner's transaction.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(organization_id=organization_id)], ignore_conflicts=True
        )
        head = heads.get(organization_id=organization_id)
    return head


def chain_append(event: AuditEvent) -> AuditEvent:
    """Save `event` unsealed (seq, prev_hash and hash NULL) in the caller's transaction and
    seal it once that transaction commits. The insert takes no lock another writer waits for,
    so concurrent audited writes neither queue on the chain nor deadlock over it; a rolled-back
    write leaves nothing to seal."""
    event.seq = event.prev_hash = event.hash = None
    event.save(force_insert=True)
    organization_id = event.organization_id
    # robust: the change itself is committed; a failed seal is retried by the periodic sealer.
    transaction.on_commit(lambda: chain_seal(organization_id=organization_id), robust=True)
    return event


_SEALED_FROM = ("id", *(name for name in HASHED_FIELDS if name != "seq"))


def _seal_batch(organization_id: int, batch_size: int) -> int:
    connection = transaction.get_connection()
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if own_transaction and connection.vendor == "postgresql":
            # The seal is derived from committed events alone: lost in a crash (only the
            # newest commits can be, and nothing that read them was made durable after them),
            # the periodic sealer writes it again. So it need not wait for its own flush to
            # disk, which would double the cost of every audited write.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        head = locked_head(organization_id)
        # Read after the lock: a sealer that held it before us has committed what it linked.
        # Only committed events are visible (and the caller's own, inside its transaction),
        # so the chain's order is the order in which events were committed and sealed; an id
        # skipped by a rolled-back insert is never in it.
        rows = list(
            AuditEvent.objects.filter(organization_id=organization_id, hash__isnull=True)
            .order_by("id")
            .values(*_SEALED_FROM)[:batch_size]
        )
        if not rows:
            return 0
        prev, seq = head.last_hash or GENESIS, head.appended
        sealed = []
        for row in rows:
            seq += 1
            row["seq"] = seq
            digest = event_hash(row, prev)
            sealed.append(AuditEvent(pk=row["id"], seq=seq, prev_hash=prev, hash=digest))
            prev = digest
        AuditEvent.objects.bulk_update(sealed, ["seq", "prev_hash", "hash"])
        head.last_event_id, head.last_hash, head.appended = sealed[-1].pk, prev, seq
        head.save(update_fields=["last_event_id", "last_hash", "appended"])
    return len(rows)


def chain_seal(*, organization_id: int, batch_size: int = 1000) -> int:
    """Link the organization's committed unsealed events to the end of its chain, in the order
    they were inserted, each batch in one short transaction under the chain head. Safe to run
    at any time and any number of times at once: run after every audited commit, by the
    periodic sealer, and before a digest is signed or a chain verified."""
    sealed = 0
    while True:
        done = retry_on_conflict(_seal_batch)(organization_id, batch_size)
        sealed += done
        if done < batch_size:
            return sealed


def chain_seal_all() -> int:
    """The safety net: seal what a commit left unsealed (its process died before sealing)."""
    organizations = (
        AuditEvent.objects.filter(hash__isnull=True)
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
        .distinct()
    )
    return sum(chain_seal(organization_id=pk) for pk in list(organizations))


@dataclass(frozen=True)
class ChainBreak:
    event_id: int | None
    created_at: datetime | None
    expected: str
    found: str
    reason: str


@dataclass(frozen=True)
class ChainReport:
    events: int
    broken: ChainBreak | None
    # Committed events the sealer has not linked yet (it runs right after each commit).
    unsealed: int = 0

    @property
    def intact(self) -> bool:
        return self.broken is None


def audit_chain_verify(*, organization, batch_size: int = 5000) -> ChainReport:
    """Walk the organization's sealed events in chain order (by seq) and report the first
    broken link: an event whose content no longer matches its hash, one that does not link to
    the event before it (an event removed or inserted), or a trail that ends before the chain
    head. Events not sealed yet are counted apart: they are not part of the chain yet."""
    head = AuditChainHead.objects.filter(organization=organization).first()
    expected_prev = (head.purged_through_hash if head else "") or GENESIS
    columns = ("id", "prev_hash", "hash", *HASHED_FIELDS)
    trail = AuditEvent.objects.filter(organization=organization)
    events = trail.filter(seq__isnull=False).order_by("seq")
    checked, last_seq, expected_seq = 0, None, None
    while True:
        page = events if last_seq is None else events.filter(seq__gt=last_seq)
        rows = list(page.values(*columns)[:batch_size])
        for row in rows:
            if row["prev_hash"] != expected_prev or expected_seq not in (None, row["seq"]):
                return ChainReport(checked, ChainBreak(
                    row["id"], row["created_at"], expected_prev, row["prev_hash"],
                    "it does not link to the event before it: an event was removed or inserted",
                ))  # fmt: skip
            computed = event_hash(row, row["prev_hash"])
            if computed != row["hash"]:
                return ChainReport(checked, ChainBreak(
                    row["id"], row["created_at"], row["hash"], computed,
                    "its content no longer matches its hash: it was edited",
                ))  # fmt: skip
            expected_prev, expected_seq = row["hash"], row["seq"] + 1
            checked += 1
        if len(rows) < batch_size:
            break
        last_seq = rows[-1]["seq"]
    unsealed = trail.filter(hash__isnull=True).count()
    if head is not None and head.last_hash and head.last_hash != expected_prev:
        return ChainReport(checked, ChainBreak(
            head.last_event_id, None, head.last_hash, expected_prev,
            "the trail ends before the newest event the chain recorded: events were removed",
        ), unsealed)  # fmt: skip
    return ChainReport(checked, None, unsealed)
