"""Bodies of tool governance: a connector's approved listing and the review of each tool, owners'
approvals and blocks, and the changes health checks found."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator, model_validator

from orgconnectors.api.schemas import ErrorOut, InputSchema, TextInput
from orgconnectors.connectors.models import ToolChange, ToolListing
from orgconnectors.connectors.tool_approvals import ToolRef
from orgconnectors.connectors.tool_review import REVIEWS, ToolReview
from orgconnectors.connectors.tool_selectors import ToolListingView

ReviewName = Literal[REVIEWS]
ChangeKindName = Literal[tuple(ToolChange.Kind.values)]
ChangeStateName = Literal[tuple(ToolChange.State.values)]
ListingReasonName = Literal[tuple(ToolListing.Reason.values)]

# The most tools one request names: more than a server's listing is kept (health/probe.py).
MAX_TOOLS_NAMED = 1000


class ToolDefinitionOut(Schema):
    """A tool's definition as its server listed it, verbatim, with the hash of its canonical
    JSON (connectors/tool_definitions.py)."""

    name: str
    title: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None
    hash: str


def definition_out(definition) -> dict[str, Any] | None:
    if not definition:
        return None
    return {
        "name": definition.get("name", ""),
        "title": definition.get("title"),
        "description": definition.get("description"),
        "input_schema": definition.get("inputSchema"),
        "output_schema": definition.get("outputSchema"),
        "annotations": definition.get("annotations"),
        "hash": definition.get("hash") or "",
    }


class ToolReviewOut(Schema):
    name: str
    title: str | None = Field(
        description="The server's definition now (the approved one when "
        "the server no longer lists the tool)."
    )
    description: str | None
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    annotations: dict[str, Any] | None
    hash: str = Field(
        description="Send it back when approving: a tool changed again since is "
        "refused (409) rather than approved by accident."
    )
    review: ReviewName = Field(
        description="approved: as approved; new: listed, never approved; changed: listed with "
        "another definition than the approved one; removed: approved, no longer listed."
    )
    enabled: bool = Field(description="Members get it (with its approved definition).")
    allowed: bool = Field(description="What the tool policy decides for it.")
    held: bool = Field(description="Members get nothing of it until an owner reviews it.")
    pinned_older: bool = Field(
        description="Handed out with its approved definition while the server lists another."
    )
    approved: ToolDefinitionOut | None = Field(
        description="The definition as approved (for changed tools, beside the current one)."
    )
    changed_fields: list[str] = Field(
        description="For changed tools: the fields that differ from the approved definition."
    )


def review_out(review: ToolReview) -> dict[str, Any]:
    shown = definition_out(review.current or review.approved) or {}
    changed = []
    if review.current is not None and review.approved is not None:
        changed = [
            key
            for key in ("title", "description", "inputSchema", "outputSchema", "annotations")
            if review.current.get(key) != review.approved.get(key)
        ]
    return {
        **shown,
        "name": review.name,
        "hash": review.hash,
        "review": review.review,
        "enabled": review.enabled,
        "allowed": review.allowed,
        "held": review.held,
        "pinned_older": review.pinned_older,
        "approved": definition_out(review.approved),
        "changed_fields": changed,
    }


class ToolListingOut(Schema):
    connector_id: int
    version: int = Field(description="The approved listing's version; 0 before any approval.")
    approved_by: str | None = Field(
        description='Who approved this version: an email, or "trusted on first use"; null before '
        "any approval."
    )
    reason: ListingReasonName | None = Field(description="How this version came to be.")
    approved_at: datetime | None
    pending: int = Field(description="Tools waiting for an owner's review.")
    tools: list[ToolReviewOut]


def listing_out(view: ToolListingView) -> dict[str, Any]:
    return {
        "connector_id": view.connector.pk,
        "version": view.version,
        "approved_by": view.approved_by,
        "reason": view.reason or None,
        "approved_at": view.approved_at,
        "pending": len(view.pending),
        "tools": [review_out(review) for review in view.reviews],
    }


class ToolRefIn(InputSchema):
    name: str = Field(min_length=1, max_length=128)
    hash: str | None = Field(
        None, max_length=80, description="The hash of the definition you reviewed."
    )


def _refs(items) -> list[ToolRef]:
    refs = []
    for item in items:
        if isinstance(item, str):
            refs.append(ToolRef(name=item))
        else:
            refs.append(ToolRef(name=item.name, hash=item.hash))
    return refs


class _NamedTools(TextInput):
    @field_validator("tools", mode="before", check_fields=False)
    @classmethod
    def _tools_are_names_or_refs(cls, value):
        if value is None:
            return value
        if not isinstance(value, list):
            raise ValueError('Send a list of tool names, or of {"name", "hash"} objects.')
        for item in value:
            if isinstance(item, str):
                if not item.strip():
                    raise ValueError("A tool name cannot be empty.")
            elif not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ValueError('Each tool is its name, or an object {"name": ..., "hash": ...}.')
        return value


class ToolApproveIn(_NamedTools):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"tools": ["search"]},
                {"tools": [{"name": "search", "hash": "sha256:…"}]},
                {"all": True},
            ]
        },
    )

    tools: list[str | ToolRefIn] | None = Field(
        None,
        max_length=MAX_TOOLS_NAMED,
        description="The tools to approve, by name, or by name and the hash of the definition "
        "you reviewed (a tool changed again since is refused with 409).",
    )
    all: bool = Field(False, description="Approve every tool waiting for review instead.")

    @model_validator(mode="after")
    def _one_way(self):
        if self.all and self.tools:
            raise ValueError('Send either "tools" or "all": true, not both.')
        if not self.all and not self.tools:
            raise ValueError('Name the tools to approve in "tools", or send "all": true.')
        return self

    def refs(self) -> list[ToolRef]:
        return _refs(self.tools or [])


class ToolBlockIn(_NamedTools):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"tools": ["delete_issue"]}]}
    )

    tools: list[str | ToolRefIn] = Field(
        min_length=1,
        max_length=MAX_TOOLS_NAMED,
        description="The tools to block, by name or by name and hash.",
    )

    def refs(self) -> list[ToolRef]:
        return _refs(self.tools)


class StaleToolHashOut(ErrorOut):
    code: Literal["stale_tool_hash"]
    current: dict[str, str] = Field(
        description="{name: hash} of the definitions the server lists now: review them, then "
        "approve with these hashes."
    )


# Tool changes


class ToolChangeOut(Schema):
    id: int
    connector_id: int
    connector_name: str
    tool_name: str
    kind: ChangeKindName
    state: ChangeStateName
    detected_at: datetime
    before: ToolDefinitionOut | None = Field(description="The approved definition then.")
    after: ToolDefinitionOut | None = Field(description="What the server listed.")
    diff: dict[str, Any] = Field(
        description="{field: {before, after}} of every field that "
        "differs (the server's field names)."
    )
    reviewed_by: str | None = Field(description="The owner who approved or blocked it.")
    reviewed_at: datetime | None

    @staticmethod
    def resolve_connector_name(change: ToolChange) -> str:
        return change.connector.name

    @staticmethod
    def resolve_before(change: ToolChange):
        return definition_out(change.before)

    @staticmethod
    def resolve_after(change: ToolChange):
        return definition_out(change.after)

    @staticmethod
    def resolve_reviewed_by(change: ToolChange) -> str | None:
        return change.reviewed_by.email if change.reviewed_by else None


class ToolChangePageOut(Schema):
    changes: list[ToolChangeOut]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )


class ToolChangeQuery(TextInput):
    connector: int | None = Field(None, description="Changes of this connector (id).")
    state: ChangeStateName | None = Field(None, description="pending: those waiting for review.")
    cursor: str | None = Field(None, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)
