"""The hash chain of each organization's audit trail: how an event is hashed, appended, checked.

hash = sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the event's content,
its predecessor's hash and the format version. The actor's user id is left out on purpose: it
is the one column Django updates (to NULL) when a user is deleted; actor_label stays hashed.
Changing anything here breaks every existing chain: add a new version instead.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from orgconnectors.audit.models import AuditChainHead, AuditEvent

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
    """The organization's chain head, locked until the caller's transaction ends: appends to
    one organization's trail take turns, appends to different organizations do not wait."""
    heads = AuditChainHead.objects.select_for_update()
    head = heads.filter(organization_id=organization_id).first()
    if head is None:
        # Two first appends may race to create it; the loser's insert is ignored, and its
        # SELECT ... FOR UPDATE then waits for the winner's transaction like any other append.
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(organization_id=organization_id)], ignore_conflicts=True
        )
        head = heads.get(organization_id=organization_id)
    return head


def chain_append(event: AuditEvent) -> AuditEvent:
    """Link `event` to the end of its organization's chain and save it. Runs inside the
    caller's transaction, which holds the chain head until it commits."""
    head = locked_head(event.organization_id)
    event.prev_hash = head.last_hash or GENESIS
    event.seq = head.appended + 1
    event.hash = event_hash({name: getattr(event, name) for name in HASHED_FIELDS}, event.prev_hash)
    event.save(force_insert=True)
    head.last_event_id = event.pk
    head.last_hash = event.hash
    head.appended += 1
    head.save(update_fields=["last_event_id", "last_hash", "appended"])
    return event


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

    @property
    def intact(self) -> bool:
        return self.broken is None


def audit_chain_verify(*, organization, batch_size: int = 5000) -> ChainReport:
    """Walk the organization's events in chain order (by id) and report the first broken link:
    an event whose content no longer matches its hash, one that does not link to the event
    before it (an event removed or inserted), or a trail that ends before the chain head."""
    head = AuditChainHead.objects.filter(organization=organization).first()
    expected_prev = (head.purged_through_hash if head else "") or GENESIS
    columns = ("id", "prev_hash", "hash", *HASHED_FIELDS)
    events = AuditEvent.objects.filter(organization=organization).order_by("id")
    checked, last_id, expected_seq = 0, 0, None
    while True:
        rows = list(events.filter(id__gt=last_id).values(*columns)[:batch_size])
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
        last_id = rows[-1]["id"]
    if head is not None and head.last_hash and head.last_hash != expected_prev:
        return ChainReport(checked, ChainBreak(
            head.last_event_id, None, head.last_hash, expected_prev,
            "the trail ends before the newest event the chain recorded: events were removed",
        ))  # fmt: skip
    return ChainReport(checked, None)
