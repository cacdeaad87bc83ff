"""Two definitions of a tool side by side, as owners review them: text fields as text, schemas
and annotations as a unified diff of their pretty-printed JSON."""

import difflib
import json
from dataclasses import dataclass

from orgconnectors.connectors.tool_definitions import is_destructive
from orgconnectors.connectors.tool_review import ToolReview

# (the server's field, what the page calls it, shown as JSON)
_FIELDS = (
    ("title", "Title", False),
    ("description", "Description", False),
    ("inputSchema", "Input schema", True),
    ("outputSchema", "Output schema", True),
    ("annotations", "Annotations", True),
)


@dataclass(frozen=True)
class DiffLine:
    text: str
    kind: str  # "added", "removed", "hunk" or "same"


@dataclass(frozen=True)
class FieldDiff:
    label: str
    before: str
    after: str
    changed: bool
    lines: list[DiffLine]  # the unified diff, for JSON fields that changed


def _shown(value, as_json: bool) -> str:
    if value in (None, ""):
        return ""
    if as_json or not isinstance(value, str):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return value


def _kind(line: str) -> str:
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "added"
    if line.startswith("-"):
        return "removed"
    return "same"


def _unified(before: str, after: str) -> list[DiffLine]:
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), "approved", "now", lineterm="", n=2
    )
    # The two file header lines name the sides, which the page's columns already do.
    return [DiffLine(line, _kind(line)) for line in list(lines)[2:]]


def definition_diff(before, after) -> list[FieldDiff]:
    """Every field either side has, the changed ones marked (before/after may be None)."""
    before, after = before or {}, after or {}
    fields = []
    for key, label, as_json in _FIELDS:
        old, new = _shown(before.get(key), as_json), _shown(after.get(key), as_json)
        if not old and not new:
            continue
        changed = before.get(key) != after.get(key)
        lines = _unified(old, new) if changed and as_json and old and new else []
        fields.append(FieldDiff(label, old, new, changed, lines))
    return fields


# What each review is called on the page, and its badge.
REVIEW_LABELS = {
    "approved": ("Approved", "healthy"),
    "new": ("New", "warning"),
    "changed": ("Changed", "warning"),
    "removed": ("Removed from the server", "unchecked"),
}


@dataclass(frozen=True)
class ReviewRow:
    """One tool on the connector's page: its review, what members get, and old beside new."""

    review: ToolReview
    fields: list[FieldDiff]

    @property
    def label(self) -> str:
        return REVIEW_LABELS[self.review.review][0]

    @property
    def badge(self) -> str:
        return REVIEW_LABELS[self.review.review][1]

    @property
    def pending(self) -> bool:
        return self.review.review != "approved"

    @property
    def destructive(self) -> bool:
        return is_destructive(self.review.current or self.review.approved or {})

    @property
    def members_get(self) -> str:
        """What members' apps get of it, in words."""
        review = self.review
        if review.review == "removed":
            return "Nothing: the server no longer lists it"
        if not review.allowed:
            return "Nothing: the tool policy blocks it"
        if review.held:
            return "Nothing until an owner reviews it"
        if review.pinned_older:
            return "The approved definition (left out where it cannot be pinned)"
        return "The approved definition"


def review_rows(reviews: list[ToolReview]) -> list[ReviewRow]:
    """Pending tools first (new, changed, removed), then the approved ones, by name."""
    order = {"new": 0, "changed": 1, "removed": 2, "approved": 3}
    return [
        ReviewRow(review, definition_diff(review.approved, review.current))
        for review in sorted(reviews, key=lambda r: (order[r.review], r.name))
    ]
