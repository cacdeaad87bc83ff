"""Check that PostgreSQL and Redis answer before the test suite runs.

`make test` runs the suite on the same servers as production. Without this check a missing server
shows up as hundreds of identical errors; with it, as one sentence that says what to start.

Run as `python -m orgconnectors.preflight` with DATABASE_URL and REDIS_URL set; exits 1 when either
is missing or its server does not answer.
"""

import os
import re
import sys
from urllib.parse import urlsplit

import psycopg
import redis

from orgconnectors.environment import ImproperlyConfiguredEnv, database_from_url

TIMEOUT_SECONDS = 3


def _reason(error: Exception) -> str:
    """The short cause inside a driver's message: "connection refused", "timeout expired"..."""
    first_line = (str(error).strip().splitlines() or [""])[0]
    # libpq: 'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection
    # refused'; the cause is what follows the last "failed:".
    text = first_line.rsplit("failed: ", 1)[-1]
    # redis-py: 'Error 111 connecting to 127.0.0.1:6379. Connection refused.'
    text = re.sub(r"^Error \d+ connecting to \S+\s*", "", text)
    text = text.strip().rstrip(".").strip()
    if text.startswith("FATAL:"):
        return text.removeprefix("FATAL:").strip()
    return (text[:1].lower() + text[1:]) if text else type(error).__name__


def check_postgresql(url: str) -> str | None:
    """None when PostgreSQL answers, otherwise the sentence to print."""
    if not url:
        # Without it the settings would quietly fall back to SQLite.
        return (
            "DATABASE_URL is not set; the test suite runs on PostgreSQL. Set it (`make test` does)."
        )
    try:
        config = database_from_url(url)
    except ImproperlyConfiguredEnv as error:
        return f"{error}."
    if config["ENGINE"] != "django.db.backends.postgresql":
        return (
            f"The test suite runs on PostgreSQL, but DATABASE_URL is {url!r}. "
            "Set DATABASE_URL to a postgres:// URL."
        )
    host = config["HOST"] or "127.0.0.1"
    port = config["PORT"] or "5432"
    try:
        # The maintenance database: the test database is created by pytest-django, and the one
        # named in DATABASE_URL need not exist yet.
        with psycopg.connect(
            host=host,
            port=port,
            user=config["USER"] or None,
            password=config["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=TIMEOUT_SECONDS,
        ) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        if "FATAL:" in str(error):
            # The server answered and said no: starting it again will not help.
            return (
                f"PostgreSQL at {host}:{port} refused the connection ({_reason(error)}). "
                "Check the user and password in DATABASE_URL."
            )
        return (
            f"PostgreSQL is not reachable at {host}:{port} ({_reason(error)}). "
            "Start it, or set DATABASE_URL."
        )
    return None


def check_redis(url: str) -> str | None:
    """None when Redis answers PING, otherwise the sentence to print."""
    if not url:
        return "REDIS_URL is not set; the test suite runs on Redis. Set it (`make test` does)."
    parts = urlsplit(url)
    where = f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
        client.ping()
        client.close()
    except (redis.RedisError, ValueError) as error:
        return f"Redis is not reachable at {where} ({_reason(error)}). Start it, or set REDIS_URL."
    return None


def main() -> int:
    problems = [
        problem
        for problem in (
            check_postgresql(os.environ.get("DATABASE_URL", "")),
            check_redis(os.environ.get("REDIS_URL", "")),
        )
        if problem
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
