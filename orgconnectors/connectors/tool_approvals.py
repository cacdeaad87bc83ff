"""Owners' review of a connector's tools: approve the definitions the server lists now (one tool,
several, or every one waiting), or block a tool. Each review is a new version of the approved
listing, audited, closing the changes it reviewed.

Approving names the definition seen at a hash: if the server changed the tool again after the
owner looked, the hash no longer matches and nothing is approved by accident (409).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.connectors import tool_definitions as defs
from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import Connector, ToolChange, ToolListing, ToolOverride
from orgconnectors.connectors.tool_review import APPROVED, connector_tool_reviews
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.core.transactions import retry_on_conflict


@dataclass(frozen=True)
class ToolRef:
    """A tool named for review, with the hash of the definition the reviewer saw (optional)."""

    name: str
    hash: str | None = None


class StaleToolHash(ServiceError):
    status = 409
    code = "stale_tool_hash"

    def __init__(self, current: dict[str, str]):
        names = ", ".join(f"“{name}”" for name in sorted(current))
        super().__init__(
            f"The server changed {names} after the definition you reviewed; review the current "
            "definition (its hash is in `current`) and approve that.",
            field="tools",
        )
        self.current = current


def _refs(connector: Connector, refs: Iterable[ToolRef] | None, every_pending: bool):
    reviews = {review.name: review for review in connector_tool_reviews(connector)}
    if every_pending:
        return reviews, [name for name, review in reviews.items() if review.review != APPROVED]
    refs = list(refs or [])
    if not refs:
        raise ConnectorError("Name at least one tool, or choose the whole listing.", field="tools")
    unknown = sorted({ref.name for ref in refs if ref.name not in reviews})
    if unknown:
        listed = ", ".join(f"“{name}”" for name in unknown)
        raise ConnectorError(f"{connector.name} has no tool called {listed}.", field="tools")
    stale = {
        ref.name: reviews[ref.name].hash
        for ref in refs
        if ref.hash is not None and ref.hash != reviews[ref.name].hash
    }
    if stale:
        raise StaleToolHash(stale)
    return reviews, sorted({ref.name for ref in refs})


def _review(
    *, connector: Connector, actor: Actor, refs, every_pending: bool, block: bool
) -> ToolListing:
    now = timezone.now()
    with transaction.atomic():
        connector = (
            Connector.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=connector.pk)
        )
        reviews, names = _refs(connector, refs, every_pending)
        latest = connector.tool_listings.order_by("-version").first()
        waiting = [name for name in names if reviews[name].review != APPROVED]
        already_blocked = _blocked_names(connector) if block else set()
        newly_blocked = [name for name in names if block and name not in already_blocked]
        if not waiting and not newly_blocked and latest is not None:
            return latest  # nothing to review: approving twice changes nothing
        kept = defs.by_name(connector.approved_tools)
        for name in waiting:
            current = reviews[name].current
            if current is None:
                kept.pop(name, None)  # removed from the server: gone from the listing
            else:
                kept[name] = dict(current)
        listing = ToolListing.objects.create(
            connector=connector,
            version=connector.tool_listing_version + 1,
            reason=ToolListing.Reason.BLOCKED if block else ToolListing.Reason.APPROVED,
            approved_by=actor.user,
            approved_at=now,
            approved_names=names,
            tools=[kept[name] for name in sorted(kept)],
        )
        before_version = connector.tool_listing_version
        connector.approved_tools = listing.tools
        connector.tool_listing_version = listing.version
        connector.save(update_fields=["approved_tools", "tool_listing_version", "updated_at"])
        if block:
            for name in names:
                ToolOverride.objects.update_or_create(
                    connector=connector, tool_name=name, defaults={"enabled": False}
                )
        ToolChange.objects.filter(
            connector=connector, tool_name__in=names, state=ToolChange.State.PENDING
        ).update(
            state=ToolChange.State.BLOCKED if block else ToolChange.State.APPROVED,
            reviewed_by=actor.user,
            reviewed_at=now,
        )
        audit_record(
            organization=connector.organization,
            actor=actor,
            action="connector.tools_blocked" if block else "connector.tools_approved",
            target=connector,
            changes={
                "version": {"before": before_version, "after": listing.version},
                "tools": {
                    "before": {name: reviews[name].approved_hash or None for name in names},
                    "after": {name: reviews[name].hash or None for name in names},
                },
            },
        )
    return listing


def _blocked_names(connector: Connector) -> set[str]:
    return set(connector.tool_overrides.filter(enabled=False).values_list("tool_name", flat=True))


@retry_on_conflict
def tools_approve(
    *,
    connector: Connector,
    actor: Actor,
    tools: Iterable[ToolRef] | None = None,
    every_pending: bool = False,
) -> ToolListing:
    """Approve the named tools' current definitions (or every tool waiting for review); returns
    the approved listing's new version (the current one when nothing was waiting)."""
    return _review(
        connector=connector, actor=actor, refs=tools, every_pending=every_pending, block=False
    )


@retry_on_conflict
def tools_block(*, connector: Connector, actor: Actor, tools: Iterable[ToolRef]) -> ToolListing:
    """Review the named tools and block them: the policy blocks them, their changes are closed,
    and their current definitions are recorded as reviewed."""
    return _review(connector=connector, actor=actor, refs=tools, every_pending=False, block=True)
