"""While Redis is down, Django's cache answers from the process's memory: rate limits and
allauth's record of used TOTP codes hold per process instead of not at all."""

import socket

from orgconnectors.degrading_cache import DegradingRedisCache


def _cache_on_a_closed_port() -> DegradingRedisCache:
    with socket.socket() as probe:  # a port nothing listens on: every call is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return DegradingRedisCache(
        f"redis://127.0.0.1:{port}/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
    )


def test_a_code_marked_as_used_while_redis_is_down_cannot_be_used_again():
    cache = _cache_on_a_closed_port()

    first = cache.add("mfa-used-code:42:123456", 1, timeout=30)
    again = cache.add("mfa-used-code:42:123456", 1, timeout=30)

    assert (first, again) == (True, False)


def test_counters_keep_counting_while_redis_is_down():
    cache = _cache_on_a_closed_port()

    cache.set("attempts", 1)
    cache.incr("attempts")

    assert cache.get("attempts") == 2
    assert cache.get("never-set", "missing") == "missing"
