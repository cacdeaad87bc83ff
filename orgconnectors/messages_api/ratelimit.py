"""How often one caller may ask for the Messages API configuration: a fixed-window counter.

The counter lives in Redis when REDIS_URL is set, so every web process shares it; otherwise in
Django's cache (per process with the default local-memory cache, enough for one machine).
When Redis does not answer within half a second, the request is allowed and the log says so:
apps keep getting their configuration during an outage, only unthrottled.
"""

import functools
import logging
import math
import re
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# Redis on the same network answers in a millisecond; past this it is down, not slow.
REDIS_TIMEOUT_SECONDS = 0.5

_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
_KEY_PREFIX = "orgconnectors:ratelimit:"


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
def _redis(url: str):
    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )


def _count_in_redis(url: str, key: str, window: int) -> int:
    pipe = _redis(url).pipeline()
    pipe.incr(key)
    # The key outlives its window a little, so a clock skew between processes is harmless.
    pipe.expire(key, window + 1, nx=True)
    count, _expiry_set = pipe.execute()
    return int(count)


def _count_in_cache(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window + 1)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr: this request is the window's first
        cache.set(key, 1, timeout=window + 1)
        return 1


def rate_limit_hit(*, scope: str, ident: str, rate: Rate) -> Verdict:
    """Count one request of `ident` in the current window of `rate`."""
    now = time.time()
    window_start = int(now // rate.window_seconds) * rate.window_seconds
    key = f"{_KEY_PREFIX}{scope}:{ident}:{window_start}"
    redis_url = getattr(settings, "REDIS_URL", None)
    if redis_url:
        try:
            count = _count_in_redis(redis_url, key, rate.window_seconds)
        except redis.RedisError as error:
            logger.warning(
                "Redis is unreachable (%s); the %s rate limit lets this request through.",
                error,
                scope,
            )
            return Verdict(True, rate.limit, 0)
    else:
        count = _count_in_cache(key, rate.window_seconds)
    if count <= rate.limit:
        return Verdict(True, rate.limit, 0)
    retry_after = max(1, math.ceil(window_start + rate.window_seconds - now))
    return Verdict(False, rate.limit, retry_after)


def config_rate() -> Rate:
    return parse_rate(getattr(settings, "ORGCONNECTORS_CONFIG_RATE_LIMIT", "60/min"))


def config_request_allowed(*, ident: str) -> Verdict:
    """One request for the Messages API configuration by `ident` (an API token or a user)."""
    return rate_limit_hit(scope="messages-api-config", ident=ident, rate=config_rate())
