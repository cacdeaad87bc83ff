"""Where each tool of a connector stands: its review (approved, new, changed, removed) and what
members get of it. Pure over the rows already read: the connector's approved listing and live
listing, its tool policy and the organization's settings.

A member gets a tool's **approved** definition, never the live one: a new tool is held until an
owner approves it; a changed one keeps its approved definition (pinned under
`mcp-client-2026-09-15`) unless the organization holds changed tools too; a removed one is gone.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from orgconnectors.connectors import tool_definitions as defs
from orgconnectors.connectors.models import Connector
from orgconnectors.organizations.models import Organization

APPROVED, NEW, CHANGED, REMOVED = "approved", "new", "changed", "removed"
REVIEWS = (APPROVED, NEW, CHANGED, REMOVED)


@dataclass(frozen=True)
class Governance:
    """The organization's settings that decide what a change does to members."""

    review_new_connectors: bool = False
    hold_changed: bool = False

    @classmethod
    def of(cls, organization: Organization) -> "Governance":
        return cls(
            review_new_connectors=organization.review_new_connector_tools,
            hold_changed=organization.changed_tools == Organization.ChangedTools.HOLD,
        )


@dataclass(frozen=True)
class ToolReview:
    name: str
    review: str
    # The tool policy's decision (the connector's default or the owner's override).
    allowed: bool
    approved: Mapping | None  # the definition as approved, if ever
    current: Mapping | None  # the definition the server lists now, if it does
    held: bool  # members get nothing of it until an owner reviews it

    @property
    def enabled(self) -> bool:
        """Members get it: allowed by the policy and not held."""
        return self.allowed and not self.held

    @property
    def pinned_older(self) -> bool:
        """Handed out with its approved definition while the server lists another."""
        return self.enabled and self.review == CHANGED

    @property
    def handed_out(self) -> Mapping | None:
        return self.approved if self.enabled else None

    @property
    def hash(self) -> str:
        shown = self.current or self.approved or {}
        return defs.stored_hash(shown) if shown else ""

    @property
    def approved_hash(self) -> str:
        return defs.stored_hash(self.approved) if self.approved else ""


def tool_reviews(
    *,
    discovered,
    approved,
    listing_version: int,
    default_enabled: bool,
    overrides: Mapping[str, bool],
    governance: Governance,
) -> list[ToolReview]:
    """Every tool the server lists or the approved listing holds, by name."""
    live = defs.by_name(discovered)
    kept = defs.by_name(approved)
    reviews = []
    for name in sorted(live.keys() | kept.keys()):
        current, approved_def = live.get(name), kept.get(name)
        if approved_def is None:
            review = NEW
        elif current is None:
            review = REMOVED
        elif defs.stored_hash(current) != defs.stored_hash(approved_def):
            review = CHANGED
        else:
            review = APPROVED
        held = (
            review in (NEW, REMOVED)
            or (review == CHANGED and governance.hold_changed)
            or (listing_version == 0 and governance.review_new_connectors)
        )
        reviews.append(
            ToolReview(
                name=name,
                review=review,
                allowed=overrides.get(name, default_enabled),
                approved=approved_def,
                current=current,
                held=held,
            )
        )
    return reviews


def connector_tool_reviews(connector: Connector) -> list[ToolReview]:
    """The reviews of one connector (expects `organization` and `tool_overrides` loaded or
    cheap to load)."""
    return tool_reviews(
        discovered=connector.discovered_tools,
        approved=connector.approved_tools,
        listing_version=connector.tool_listing_version,
        default_enabled=connector.tool_default == Connector.ToolDefault.ALLOW,
        overrides={o.tool_name: o.enabled for o in connector.tool_overrides.all()},
        governance=Governance.of(connector.organization),
    )


def handed_out_tools(connector: Connector) -> list[dict]:
    """The approved definitions of the tools members may use, as approved (without our hash).

    A connector whose listing was never approved and whose organization trusts first use hands
    out nothing here: callers that can fall back to the live server decide that themselves."""
    return [
        {key: value for key, value in review.approved.items() if key != "hash"}
        for review in connector_tool_reviews(connector)
        if review.handed_out is not None
    ]


def pending_review_count(connector: Connector) -> int:
    return sum(1 for r in connector_tool_reviews(connector) if r.review != APPROVED)
