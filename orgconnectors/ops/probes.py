"""Health endpoints for load balancers: /healthz (the process answers) and /readyz (it can
reach the database and the broker).

Answered by a middleware placed first, before the https redirect, the host check, sessions and
login: a load balancer probes over plain http, by IP address, without a cookie, as often as it
likes. The answers name what is down, never why (the reason goes to the log).
"""

import logging

import redis
from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connections
from django.db.utils import load_backend
from django.http import JsonResponse

logger = logging.getLogger(__name__)

# Each dependency gets this long to answer before the probe calls it down.
CHECK_TIMEOUT_SECONDS = 2


def database_check(alias: str = "default") -> bool:
    """A `SELECT 1` over a new connection, so a full or unreachable server shows."""
    settings_dict = dict(connections[alias].settings_dict)
    if settings_dict["ENGINE"] == "django.db.backends.postgresql":
        options = {**settings_dict.get("OPTIONS", {}), "connect_timeout": CHECK_TIMEOUT_SECONDS}
        # A connection of its own, not a pool of its own at every probe.
        options.pop("pool", None)
        settings_dict["OPTIONS"] = options
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except DatabaseError as failure:
        logger.warning("readiness: the database is unreachable: %s", failure)
        return False
    finally:
        wrapper.close()


def broker_check() -> bool:
    """A PING to Redis; the file broker of a single machine has nothing to ping."""
    if not settings.REDIS_URL:
        return True
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        return bool(client.ping())
    except redis.RedisError as failure:
        logger.warning("readiness: the broker is unreachable: %s", failure)
        return False
    finally:
        client.close()


def readiness() -> dict[str, str]:
    return {
        "database": "ok" if database_check() else "down",
        "broker": "ok" if broker_check() else "down",
    }


def _answer(status: int, body: dict) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return _answer(200, {"status": "live"})
            if request.path == "/readyz":
                checks = readiness()
                down = sorted(name for name, state in checks.items() if state != "ok")
                if down:
                    return _answer(503, {"status": "not ready", "down": down, "checks": checks})
                return _answer(200, {"status": "ready", "checks": checks})
        return self.get_response(request)
