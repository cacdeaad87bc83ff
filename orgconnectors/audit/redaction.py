"""Before/after of changed fields, with secrets never written to the trail."""

from typing import Any

REDACTED = "[redacted]"


def field_changes(
    before: dict[str, Any], after: dict[str, Any], *, secret_fields: frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in secret_fields:
            old = REDACTED if old else None
            new = REDACTED if new else None
        changes[name] = {"before": old, "after": new}
    return changes
