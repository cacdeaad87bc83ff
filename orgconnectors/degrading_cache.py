"""Django's Redis cache, made to degrade instead of failing when Redis is down.

Django's RedisCache raises on a connection error, so a Redis outage would turn every page that
touches the cache (allauth's rate limits on sign-in, password reset and two-factor) into an
error page. Here each operation that cannot reach Redis is served by a cache in this process's
memory instead, and a warning says so in the log, at most once a minute per process. The short
socket timeouts in settings bound how long a request waits for Redis.

So while Redis is down the guarantees are those of one process, not none: rate limits count per
process, and a TOTP code allauth marked as used (with `add`) cannot be used again in the same
process. Once Redis answers, it is the cache again; what the fallback held is not copied back.
"""

import functools
import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_WARN_EVERY = 60.0
_last_warning = [float("-inf")]


def _warn(operation: str, error: Exception) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= _WARN_EVERY:
        _last_warning[0] = now
        logger.warning(
            "Django's cache on Redis is unreachable (%s: %s); going on with this process's "
            "memory: rate limits count per process until it is back.",
            operation,
            error,
        )


def _falls_back(method):
    """On a Redis error, log and serve the call from this process's memory instead."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            _warn(method.__name__, error)
            return getattr(self._fallback, method.__name__)(*args, **kwargs)

    return wrapper


class DegradingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback = LocMemCache(
            f"redis-fallback-{id(self)}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 10_000}},
        )

    get = _falls_back(RedisCache.get)
    add = _falls_back(RedisCache.add)
    set = _falls_back(RedisCache.set)
    touch = _falls_back(RedisCache.touch)
    delete = _falls_back(RedisCache.delete)
    has_key = _falls_back(RedisCache.has_key)
    get_many = _falls_back(RedisCache.get_many)
    set_many = _falls_back(RedisCache.set_many)
    delete_many = _falls_back(RedisCache.delete_many)
    incr = _falls_back(RedisCache.incr)
    clear = _falls_back(RedisCache.clear)
