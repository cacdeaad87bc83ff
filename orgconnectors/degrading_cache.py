"""Django's Redis cache, made to degrade instead of failing when Redis is down.

Django's RedisCache raises on a connection error, so a Redis outage would turn every page that
touches the cache (allauth's rate limits on sign-in, password reset and two-factor) into an
error page. Here each operation that cannot reach Redis answers as if nothing were cached and
nothing could be stored: reads miss, `add` reports the key as added (so allauth's rate-limit
lock and counters let the request through), and a warning says so in the log, at most once a
minute per process. The short socket timeouts in settings bound how long a request waits.

What degrades while Redis is down: rate limits are not enforced, and a TOTP code could be used
twice within its validity window (allauth marks used codes in the cache).
"""

import functools
import logging
import time

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
            "Django's cache on Redis is unreachable (%s: %s); going on without it: rate limits "
            "are not enforced until it is back.",
            operation,
            error,
        )


def _degrades(fallback):
    """On a Redis error, log and return `fallback(*args, **kwargs)` instead."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except RedisError as error:
                _warn(method.__name__, error)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


class DegradingRedisCache(RedisCache):
    get = _degrades(_default)(RedisCache.get)
    add = _degrades(lambda *a, **k: True)(RedisCache.add)
    set = _degrades(lambda *a, **k: None)(RedisCache.set)
    touch = _degrades(lambda *a, **k: False)(RedisCache.touch)
    delete = _degrades(lambda *a, **k: False)(RedisCache.delete)
    has_key = _degrades(lambda *a, **k: False)(RedisCache.has_key)
    get_many = _degrades(lambda *a, **k: {})(RedisCache.get_many)
    set_many = _degrades(lambda keys, *a, **k: list(keys))(RedisCache.set_many)
    delete_many = _degrades(lambda *a, **k: None)(RedisCache.delete_many)
    incr = _degrades(lambda key, delta=1, *a, **k: delta)(RedisCache.incr)
    clear = _degrades(lambda *a, **k: False)(RedisCache.clear)
