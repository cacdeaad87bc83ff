"""Quotas in the gateway: each call is counted against the limits it meets (the tool's, its
connector's, the organization's, each per member; connectors/quotas.py) before it goes
upstream, and refused with a JSON-RPC error saying which limit and when it resets.

Counting is the `limits` library's moving window, in Redis (REDIS_URL) so every gateway process
shares it, each hit one atomic Lua script; without REDIS_URL, in this process's memory. The
limits are checked narrowest first, and a call refused by a broader limit has already counted
against the narrower ones it passed (a budget, not a ledger). Quotas are a budget, not a lock:
when Redis does not answer, calls go on uncounted, the log says so, and Redis is not asked again
for REDIS_RETRY_SECONDS (so an outage costs one timeout, not one per call).
"""

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter as SyncMovingWindowRateLimiter
from redis.exceptions import RedisError

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.quotas import TOOL, QuotaRule, quota_rules_of
from orgconnectors.organizations.models import Membership, Organization

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 5.0
_KEY = "orgconnectors-quota"
_PERIODS = (("minute", RateLimitItemPerMinute), ("day", RateLimitItemPerDay))

_limiters: dict[tuple[str, int], MovingWindowRateLimiter] = {}
_down_until = 0.0


def _limiter() -> MovingWindowRateLimiter:
    """One limiter per storage and event loop (a Redis client belongs to the loop it runs on)."""
    url = settings.REDIS_URL or ""
    key = (url, id(asyncio.get_running_loop()))
    limiter = _limiters.get(key)
    if limiter is None:
        if url:
            storage = storage_from_string(
                f"async+{url}",
                implementation="redispy",
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        else:
            storage = storage_from_string("async+memory://")
        limiter = _limiters[key] = MovingWindowRateLimiter(storage)
    return limiter


def _ids(organization_id: int, membership_id: int, rule: QuotaRule) -> tuple[str, ...]:
    """The counter of one member under one rule (one per period, `limits` adds the item)."""
    return (
        _KEY,
        str(organization_id),
        str(membership_id),
        rule.level,
        str(rule.connector_id or ""),
        rule.tool,
    )


def forget_quota_counts() -> None:
    """Drop this process's limiters (and so what memory storage counted); for tests."""
    global _down_until
    _limiters.clear()
    _readers.clear()
    _down_until = 0.0


@dataclass(frozen=True)
class QuotaRefusal:
    message: str
    data: dict


def _refusal(rule: QuotaRule, period: str, amount: int, reset_time: float) -> QuotaRefusal:
    resets_at = datetime.fromtimestamp(reset_time, tz=UTC).replace(microsecond=0)
    seconds = max(1, math.ceil(reset_time - time.time()))
    message = (
        f"Quota reached: {rule.label} allows each member {amount} tool call"
        f"{'s' if amount != 1 else ''} per {period}; a call can be made again at "
        f"{resets_at.isoformat()} (in {seconds} s)."
    )
    data = {
        "outcome": "denied",
        "quota": {
            "level": rule.level,
            "scope": rule.label,
            "period": period,
            "limit": amount,
            "resets_at": resets_at.isoformat(),
            "retry_after_seconds": seconds,
        },
    }
    return QuotaRefusal(message, data)


async def quota_hit(
    *, rules: tuple[QuotaRule, ...], organization_id: int, membership_id: int, tool: str
) -> QuotaRefusal | None:
    """Counts one call of `tool` against the rules it meets; None when it may go on."""
    global _down_until
    meeting = [r for r in rules if r.level != TOOL or r.tool == tool]
    if not meeting or time.monotonic() < _down_until:
        return None
    try:
        limiter = _limiter()
        for rule in meeting:
            for period, kind in _PERIODS:
                amount = rule.per_minute if period == "minute" else rule.per_day
                if amount is None:
                    continue
                item: RateLimitItem = kind(amount)
                ids = _ids(organization_id, membership_id, rule)
                if not await limiter.hit(item, *ids):
                    stats = await limiter.get_window_stats(item, *ids)
                    return _refusal(rule, period, amount, stats.reset_time)
    except (StorageError, RedisError, OSError) as exc:
        _down_until = time.monotonic() + REDIS_RETRY_SECONDS
        logger.warning(
            "gateway: quotas are not counted for %.0f s: their storage did not answer (%s); "
            "calls go on meanwhile",
            REDIS_RETRY_SECONDS,
            type(exc).__name__,
        )
    return None


# Reading the counters (the pages): the same storage and keys, synchronously, never a hit.

NEAR_SHARE = 0.8  # "near a limit": at least 80% of it used

_readers: dict[str, SyncMovingWindowRateLimiter] = {}


class UsageUnavailable(Exception):
    """The counters could not be read (no shared storage, or Redis did not answer)."""


@dataclass(frozen=True)
class QuotaUse:
    rule: QuotaRule
    period: str  # minute or day
    limit: int
    used: int

    @property
    def near(self) -> bool:
        return self.used >= NEAR_SHARE * self.limit

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.limit))


def _reader() -> SyncMovingWindowRateLimiter:
    url = settings.REDIS_URL or ""
    if not url:
        # Without Redis each gateway process counts in its own memory: nothing to read here.
        raise UsageUnavailable
    reader = _readers.get(url)
    if reader is None:
        storage = storage_from_string(
            url,
            wrap_exceptions=True,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        reader = _readers[url] = SyncMovingWindowRateLimiter(storage)
    return reader


def _uses(reader, rules, organization_id: int, membership_id: int) -> list[QuotaUse]:
    uses = []
    for rule in rules:
        for period, kind in _PERIODS:
            amount = rule.per_minute if period == "minute" else rule.per_day
            if amount is None:
                continue
            stats = reader.get_window_stats(
                kind(amount), *_ids(organization_id, membership_id, rule)
            )
            uses.append(QuotaUse(rule, period, amount, max(0, amount - stats.remaining)))
    return uses


def member_quota_usage(*, membership: Membership) -> list[tuple[Connector, list[QuotaUse]]]:
    """For each connector the member has in use, their calls in the current minute and day
    against every limit in force on it (the organization's limits are the same counters on each
    connector). Raises UsageUnavailable when the counters cannot be read."""
    organization = membership.organization
    connectors = [
        c.connector
        for c in Connection.objects.filter(membership=membership, state__in=Connection.IN_USE)
        .select_related("connector")
        .order_by("connector__name", "connector_id")
    ]
    if not connectors:
        return []
    rules_of = quota_rules_of(organization=organization, connectors=connectors)
    reader = _reader()
    try:
        return [
            (connector, _uses(reader, rules_of[connector.pk], organization.pk, membership.pk))
            for connector in connectors
        ]
    except (StorageError, RedisError, OSError) as exc:
        logger.warning("quota usage: its storage did not answer (%s)", type(exc).__name__)
        raise UsageUnavailable from exc


def members_near_quota(*, organization: Organization) -> list[tuple[Membership, QuotaUse]]:
    """Each member's use of a limit at 80% or more, the fullest first. Reads every member's
    counters under the organization's limits and those of the connectors they have in use.
    Raises UsageUnavailable when the counters cannot be read."""
    memberships = list(
        Membership.objects.filter(organization=organization).select_related("user").order_by("pk")
    )
    in_use: dict[int, list[Connector]] = {}
    for connection in Connection.objects.filter(
        membership__organization=organization, state__in=Connection.IN_USE
    ).select_related("connector"):
        in_use.setdefault(connection.membership_id, []).append(connection.connector)
    rules_of = quota_rules_of(
        organization=organization,
        connectors=list({c.pk: c for cs in in_use.values() for c in cs}.values()),
    )
    reader = _reader()
    near = []
    try:
        for membership in memberships:
            seen = set()
            rules = list(rules_of[None])
            for connector in in_use.get(membership.pk, []):
                rules += [r for r in rules_of[connector.pk] if r.connector_id is not None]
            for rule in rules:
                if rule in seen:
                    continue
                seen.add(rule)
                for use in _uses(reader, (rule,), organization.pk, membership.pk):
                    if use.near:
                        near.append((membership, use))
    except (StorageError, RedisError, OSError) as exc:
        logger.warning("quota usage: its storage did not answer (%s)", type(exc).__name__)
        raise UsageUnavailable from exc
    near.sort(key=lambda pair: (-pair[1].used / pair[1].limit, pair[0].pk))
    return near
