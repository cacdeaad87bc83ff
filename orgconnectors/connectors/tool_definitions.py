"""A tool's definition as a server lists it, its hash, and what changed between two of them.

Pure: no database. The health check records each tool's definition as `tools/list` gave it
(name, title, description, input and output schema, annotations), verbatim, with the hash of
its canonical JSON; the approved listing keeps definitions in the same shape, so a hash
compares what an owner approved with what the server says now.
"""

import hashlib
import json
from collections.abc import Mapping

# The fields of a definition, in the order pages show them; `hash` is ours, not the server's.
FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
HASHED = FIELDS

# A tool whose definition is larger than this is not kept (the health check says so): a
# listing is handed to every member's app, and nobody reviews a 100 KB description.
MAX_DEFINITION_BYTES = 100_000


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def definition_hash(definition: Mapping) -> str:
    """sha256 of the canonical JSON of the definition's own fields."""
    hashed = {key: definition[key] for key in HASHED if definition.get(key) not in (None, "")}
    return "sha256:" + hashlib.sha256(canonical_json(hashed).encode()).hexdigest()


def definition(raw: Mapping) -> dict:
    """The recorded form: the server's fields that are present, plus `hash`."""
    recorded = {key: raw[key] for key in FIELDS if raw.get(key) not in (None, "")}
    recorded["hash"] = definition_hash(recorded)
    return recorded


def definition_size(raw: Mapping) -> int:
    return len(canonical_json({key: raw.get(key) for key in FIELDS}).encode())


def listing_digest(definitions: list[Mapping]) -> str:
    """One hash for a whole listing: equal digests, equal listings (order aside)."""
    hashes = sorted(f"{d.get('name', '')}\0{d.get('hash', '')}" for d in definitions)
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def by_name(definitions) -> dict[str, dict]:
    """{name: definition} for a listing stored as a list (the first of a repeated name wins)."""
    found: dict[str, dict] = {}
    for item in definitions or []:
        name = item.get("name") if isinstance(item, Mapping) else None
        if name and name not in found:
            found[name] = dict(item)
    return found


def stored_hash(item: Mapping) -> str:
    """The hash recorded with a definition, or computed for one recorded before hashes were."""
    return item.get("hash") or definition_hash(item)


def changed_fields(before: Mapping | None, after: Mapping | None) -> dict[str, dict]:
    """{field: {"before", "after"}} for every field that differs; empty when equal."""
    before, after = before or {}, after or {}
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in FIELDS
        if before.get(key) != after.get(key)
    }


def is_destructive(item: Mapping) -> bool:
    """Marked destructive by the server: `destructiveHint` true on a tool not marked read-only."""
    annotations = item.get("annotations") or {}
    return (
        annotations.get("destructiveHint") is True and annotations.get("readOnlyHint") is not True
    )


def is_read_only(item: Mapping) -> bool:
    return (item.get("annotations") or {}).get("readOnlyHint") is True
