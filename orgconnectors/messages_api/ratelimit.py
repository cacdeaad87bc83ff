"""How often one caller may ask for the Messages API configuration: a moving window, counted
by the `limits` library.

The window lives in Redis when REDIS_URL is set (the storage the gateway's quotas use, each hit
one atomic Lua script), so every web process shares it; otherwise in this process's memory
(enough for one machine). A moving window counts the requests of the last period, so a caller
cannot spend twice the rate across a window's edge; a refused request is told when the oldest
request it counts leaves the window. When Redis does not answer within half a second, the
request is allowed and the log says so: apps keep getting their configuration during an outage,
only unthrottled.
"""

import functools
import logging
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Redis on the same network answers in a millisecond; past this it is down, not slow.
REDIS_TIMEOUT_SECONDS = 0.5

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
_KEY_PREFIX = "orgconnectors-ratelimit:"


class InvalidRate(ValueError):
    pass


@dataclass(frozen=True)
class Rate:
    limit: int
    window_seconds: int


@functools.cache
def parse_rate(text: str) -> Rate:
    """ "60/min", "10/s", "1000/hour" or "100/5m" (100 per 5 minutes)."""
    match = _RATE.match((text or "").lower())
    if not match or match.group(3) not in _UNITS or int(match.group(1)) < 1:
        raise InvalidRate(
            f"{text!r} is not a rate; write it as a number of requests per period, like 60/min, "
            "10/s, 1000/hour or 100/5m"
        )
    count, multiple, unit = match.groups()
    return Rate(int(count), int(multiple or 1) * _UNITS[unit])


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    retry_after: int  # seconds until the window resets; 0 when allowed


@functools.cache
def _limiter(url: str) -> MovingWindowRateLimiter:
    """One limiter per storage; "memory://" without REDIS_URL."""
    if url == "memory://":
        return MovingWindowRateLimiter(storage_from_string(url))
    storage = storage_from_string(
        url,
        wrap_exceptions=True,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return MovingWindowRateLimiter(storage)


def forget_rate_counts() -> None:
    """Drop this process's limiters (and so what memory storage counted); for tests."""
    _limiter.cache_clear()


def rate_limit_hit(*, scope: str, ident: str, rate: Rate) -> Verdict:
    """Count one request of `ident` in the moving window of `rate`."""
    item = RateLimitItemPerSecond(rate.limit, rate.window_seconds)
    ids = (_KEY_PREFIX + scope, ident)
    url = getattr(settings, "REDIS_URL", None) or "memory://"
    try:
        limiter = _limiter(url)
        if limiter.hit(item, *ids):
            return Verdict(True, rate.limit, 0)
        stats = limiter.get_window_stats(item, *ids)
    except (StorageError, RedisError, OSError) as error:
        logger.warning(
            "Redis is unreachable (%s); the %s rate limit lets this request through.",
            type(error).__name__,
            scope,
        )
        return Verdict(True, rate.limit, 0)
    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
    return Verdict(False, rate.limit, retry_after)


def config_rate() -> Rate:
    return parse_rate(getattr(settings, "ORGCONNECTORS_CONFIG_RATE_LIMIT", "60/min"))


def config_request_allowed(*, ident: str) -> Verdict:
    """One request for the Messages API configuration by `ident` (an API token or a user)."""
    return rate_limit_hit(scope="messages-api-config", ident=ident, rate=config_rate())
