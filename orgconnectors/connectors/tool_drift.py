"""What a health check's complete tool listing changes: the first listing approved on first use,
later ones compared with the approved listing, each difference recorded once as a ToolChange,
audited with its diff, and the owners told.

Runs inside the health check's transaction, with the connector's row locked; it adds no request
to the check (the listing is the one the check already fetched).
"""

from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors import tool_definitions as defs
from orgconnectors.connectors.models import Connector, ToolChange, ToolListing, ToolOverride
from orgconnectors.connectors.tool_review import Governance
from orgconnectors.core.actor import Actor
from orgconnectors.outbox.enqueue import enqueue

# How much of one changed field the audit event carries; the ToolChange row holds all of it.
_AUDIT_FIELD_CHARS = 4000


def _clipped(value):
    text = value if isinstance(value, str) else defs.canonical_json(value)
    if value is None or len(text) <= _AUDIT_FIELD_CHARS:
        return value
    return text[:_AUDIT_FIELD_CHARS] + f"… ({len(text) - _AUDIT_FIELD_CHARS} more characters)"


def _audit_diff(diff: dict) -> dict:
    return {key: {side: _clipped(v) for side, v in sides.items()} for key, sides in diff.items()}


def _start_destructive_blocked(connector: Connector, definitions: list[dict]) -> list[str]:
    """Block new tools the server marks destructive, unless an owner already decided."""
    if not connector.organization.block_new_destructive_tools:
        return []
    decided = set(connector.tool_overrides.values_list("tool_name", flat=True))
    names = sorted(
        d["name"] for d in definitions if defs.is_destructive(d) and d["name"] not in decided
    )
    ToolOverride.objects.bulk_create(
        ToolOverride(connector=connector, tool_name=name, enabled=False) for name in names
    )
    return names


def _approve_first_listing(connector: Connector, listed: list[dict], actor: Actor, now) -> None:
    names = sorted(defs.by_name(listed))
    blocked = _start_destructive_blocked(connector, listed)
    ToolListing.objects.create(
        connector=connector,
        version=1,
        reason=ToolListing.Reason.FIRST_USE,
        approved_at=now,
        approved_names=names,
        tools=listed,
    )
    connector.approved_tools = listed
    connector.tool_listing_version = 1
    connector.save(update_fields=["approved_tools", "tool_listing_version"])
    # Changes recorded while the organization reviewed new connectors' tools, which it no longer
    # does: this listing settles them (trusted on first use, no owner named).
    ToolChange.objects.filter(connector=connector, state=ToolChange.State.PENDING).update(
        state=ToolChange.State.APPROVED, reviewed_at=now
    )
    changes = {
        "version": {"before": 0, "after": 1},
        "tools": {"before": [], "after": names},
        "reason": {"before": None, "after": ToolListing.Reason.FIRST_USE.label},
    }
    if blocked:
        changes["blocked_as_destructive"] = {"before": [], "after": blocked}
    audit_record(
        organization=connector.organization,
        actor=actor,
        action="connector.tools_approved",
        target=connector,
        changes=changes,
    )


def _kind(before, after) -> str:
    if before is None:
        return ToolChange.Kind.NEW
    return ToolChange.Kind.REMOVED if after is None else ToolChange.Kind.CHANGED


def tool_listing_observed(
    *, connector: Connector, listed: list[dict], actor: Actor, now=None
) -> list[ToolChange]:
    """Compare a complete listing with the approved one; returns the changes recorded now.

    The caller holds the connector's row lock (the health check's transaction)."""
    now = now or timezone.now()
    governance = Governance.of(connector.organization)
    if connector.tool_listing_version == 0 and not governance.review_new_connectors:
        _approve_first_listing(connector, listed, actor, now)
        return []
    kept, live = defs.by_name(connector.approved_tools), defs.by_name(listed)
    pending = {
        change.tool_name: change
        for change in ToolChange.objects.filter(connector=connector, state=ToolChange.State.PENDING)
    }
    created: list[ToolChange] = []
    for name in sorted(kept.keys() | live.keys()):
        before, after = kept.get(name), live.get(name)
        before_hash = defs.stored_hash(before) if before else ""
        after_hash = defs.stored_hash(after) if after else ""
        open_change = pending.get(name)
        if before_hash == after_hash:
            if open_change is not None:  # changed, then changed back before anyone reviewed
                open_change.state = ToolChange.State.REVERTED
                open_change.save(update_fields=["state"])
            continue
        if open_change is not None:
            if open_change.after_hash == after_hash:
                continue  # already recorded and told
            open_change.state = ToolChange.State.SUPERSEDED
            open_change.save(update_fields=["state"])
        created.append(
            ToolChange.objects.create(
                organization_id=connector.organization_id,
                connector=connector,
                tool_name=name,
                kind=_kind(before, after),
                detected_at=now,
                before=before,
                after=after,
                before_hash=before_hash,
                after_hash=after_hash,
                diff=defs.changed_fields(before, after),
            )
        )
    if not created:
        return []
    new_definitions = [c.after for c in created if c.kind == ToolChange.Kind.NEW]
    blocked = _start_destructive_blocked(connector, new_definitions)
    changes = {
        change.tool_name: {
            "before": {"hash": change.before_hash or None},
            "after": {
                "hash": change.after_hash or None,
                "kind": change.kind,
                "fields": _audit_diff(change.diff),
            },
        }
        for change in created
    }
    if blocked:
        changes["blocked_as_destructive"] = {"before": [], "after": blocked}
    audit_record(
        organization=connector.organization,
        actor=actor,
        action="connector.tools_drifted",
        target=connector,
        changes=changes,
    )
    enqueue(
        "health.notify_tool_changes",
        kwargs={"connector_id": connector.pk, "change_ids": [c.pk for c in created]},
    )
    return created
