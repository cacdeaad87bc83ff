"""What each connector's approved tool listing hands out, kept in process memory.

The configuration is asked for before every request an app sends, and a listing of 50 tools with
their schemas is large JSON. So the answer is worked out once per connector and state, and kept:
the key holds everything it depends on (the connector, its approved listing's version, the digest
of what its server lists, the tool policy and the organization's settings), so a change anywhere
makes a new key and nothing needs invalidating. The listings themselves are read only on a miss,
in one query for every connector missing.
"""

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.tool_review import Governance, tool_reviews
from orgconnectors.messages_api import builder

# Enough for every connector of many organizations; the oldest entry goes first.
MAX_ENTRIES = 4096


@dataclass(frozen=True)
class ListingState:
    """What a connector's hand-out depends on, as the configuration's main query read it."""

    connector_id: int
    listing_version: int
    # tool_definitions.listing_digest of the server's listing; "" when not recorded (then the
    # hand-out is worked out from the listings every time, never kept).
    discovered_digest: str
    policy: builder.Policy

    def key(self, governance: Governance) -> tuple:
        overrides = tuple(sorted(self.policy.overrides.items()))
        return (
            self.connector_id,
            self.listing_version,
            self.discovered_digest,
            self.policy.default_enabled,
            overrides,
            governance,
        )


_cache: OrderedDict[tuple, builder.ToolHandout] = OrderedDict()
_lock = threading.Lock()


def _kept(key: tuple) -> builder.ToolHandout | None:
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
        return found


def _keep(key: tuple, handout: builder.ToolHandout) -> None:
    with _lock:
        _cache[key] = handout
        _cache.move_to_end(key)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)


def forget_all() -> None:
    """Empty the cache (tests that change listings behind the health check's back)."""
    with _lock:
        _cache.clear()


def _listings(connector_ids: list[int]) -> Mapping[int, tuple]:
    """{id: (version, digest, approved, discovered)} as they are now."""
    rows = Connector.objects.filter(pk__in=connector_ids).values_list(
        "id", "tool_listing_version", "discovered_digest", "approved_tools", "discovered_tools"
    )
    return {row[0]: row[1:] for row in rows}


def tool_handouts(
    states: list[ListingState], *, governance: Governance
) -> dict[int, builder.ToolHandout]:
    """{connector id: its hand-out}; at most one query (for the listings not kept yet)."""
    found: dict[int, builder.ToolHandout] = {}
    missing: list[ListingState] = []
    for state in states:
        if state.listing_version == 0:
            found[state.connector_id] = builder.ToolHandout.unlisted(
                review_first=governance.review_new_connectors
            )
            continue
        kept = _kept(state.key(governance)) if state.discovered_digest else None
        if kept is None:
            missing.append(state)
        else:
            found[state.connector_id] = kept
    if not missing:
        return found
    listings = _listings([state.connector_id for state in missing])
    for state in missing:
        version, digest, approved, discovered = listings.get(
            state.connector_id, (state.listing_version, "", [], [])
        )
        reviews = tool_reviews(
            discovered=discovered,
            approved=approved,
            listing_version=state.listing_version,
            default_enabled=state.policy.default_enabled,
            overrides=state.policy.overrides,
            governance=governance,
        )
        handout = builder.tool_handout(
            reviews, listing_version=state.listing_version, governance=governance
        )
        # Kept only when nothing changed since the main query read the key's parts.
        if state.discovered_digest and (version, digest) == (
            state.listing_version,
            state.discovered_digest,
        ):
            _keep(state.key(governance), handout)
        found[state.connector_id] = handout
    return found
