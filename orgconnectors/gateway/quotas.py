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
from redis.exceptions import RedisError

from orgconnectors.connectors.quotas import TOOL, QuotaRule

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


def forget_quota_counts() -> None:
    """Drop this process's limiters (and so what memory storage counted); for tests."""
    global _down_until
    _limiters.clear()
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
                ids = (
                    _KEY,
                    str(organization_id),
                    str(membership_id),
                    rule.level,
                    str(rule.connector_id or ""),
                    rule.tool,
                )
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
