"""Reads of tool governance, starting from the organization: a connector's approved listing with
the review of each tool, and the changes health checks found (newest first, a page at a time)."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q, QuerySet

from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import Connector, ToolChange, ToolListing
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.connectors.tool_review import APPROVED, ToolReview, connector_tool_reviews
from orgconnectors.organizations.models import Organization

TRUSTED_ON_FIRST_USE = "trusted on first use"
# Who approved a listing whose approver's account is gone.
FORMER_MEMBER = "a former member"


@dataclass(frozen=True)
class ToolListingView:
    """A connector's approved listing (version 0: none yet) and where each tool stands."""

    connector: Connector
    version: int
    approved_by: str | None  # an email, TRUSTED_ON_FIRST_USE, or None before any approval
    reason: str  # ToolListing.Reason, "" before any approval
    approved_at: datetime | None
    reviews: list[ToolReview]

    @property
    def pending(self) -> list[ToolReview]:
        return [review for review in self.reviews if review.review != APPROVED]

    @property
    def waiting_for_first_review(self) -> bool:
        """No listing approved yet and the organization reviews new connectors' tools."""
        return self.version == 0 and self.connector.organization.review_new_connector_tools


def _approver(listing: ToolListing | None) -> str | None:
    if listing is None:
        return None
    if listing.reason == ToolListing.Reason.FIRST_USE:
        return TRUSTED_ON_FIRST_USE
    return listing.approved_by.email if listing.approved_by else FORMER_MEMBER


def tool_listing_of(connector: Connector) -> ToolListingView:
    """The listing view of a connector already read through the organization."""
    latest = (
        ToolListing.objects.filter(connector=connector, version=connector.tool_listing_version)
        .select_related("approved_by")
        .first()
        if connector.tool_listing_version
        else None
    )
    return ToolListingView(
        connector=connector,
        version=connector.tool_listing_version,
        approved_by=_approver(latest),
        reason=latest.reason if latest else "",
        approved_at=latest.approved_at if latest else None,
        reviews=connector_tool_reviews(connector),
    )


def connector_tool_listing(*, organization: Organization, connector_id) -> ToolListingView:
    """404 for a connector of another organization, as for an absent one."""
    return tool_listing_of(connector_get(organization=organization, connector_id=connector_id))


# Tool changes


class InvalidToolChangeCursor(ConnectorError):
    def __init__(self) -> None:
        super().__init__(
            "This cursor is not one this server handed out; start again without it.",
            field="cursor",
        )


@dataclass(frozen=True)
class ToolChangePage:
    changes: list[ToolChange]
    next_cursor: str | None


def _encode(change: ToolChange) -> str:
    raw = json.dumps([change.detected_at.isoformat(), change.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        detected_at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(detected_at).astimezone(UTC), int(pk)
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError):
        raise InvalidToolChangeCursor() from None


def tool_changes_of(
    *, organization: Organization, connector: Connector | None = None, state: str = ""
) -> QuerySet[ToolChange]:
    """Every change of the organization (or of one of its connectors), newest first."""
    changes = ToolChange.objects.filter(organization=organization)
    if connector is not None:
        changes = changes.filter(connector=connector)
    if state:
        changes = changes.filter(state=state)
    return changes.select_related("connector", "reviewed_by").order_by("-detected_at", "-id")


def tool_changes_page(
    *,
    organization: Organization,
    connector_id=None,
    state: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> ToolChangePage:
    """Keyset pages, newest first; `connector_id` of another organization is a 404."""
    connector = (
        None
        if connector_id in (None, "")
        else connector_get(organization=organization, connector_id=connector_id)
    )
    if state and state not in ToolChange.State.values:
        choices = ", ".join(ToolChange.State.values)
        raise ConnectorError(f"Choose a state among {choices}.", field="state")
    changes = tool_changes_of(organization=organization, connector=connector, state=state)
    if cursor:
        detected_at, pk = _decode(cursor)
        changes = changes.filter(detected_at__lte=detected_at).filter(
            Q(detected_at__lt=detected_at) | Q(id__lt=pk)
        )
    rows = list(changes[: limit + 1])
    next_cursor = _encode(rows[limit - 1]) if len(rows) > limit else None
    return ToolChangePage(changes=rows[:limit], next_cursor=next_cursor)


def pending_tool_change_count(*, organization: Organization) -> int:
    """Changes waiting for an owner's review, over every connector of the organization."""
    return ToolChange.objects.filter(
        organization=organization, state=ToolChange.State.PENDING
    ).count()
