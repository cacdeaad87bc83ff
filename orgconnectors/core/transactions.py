"""Retrying a service's transaction when PostgreSQL gives up on it under concurrency.

A deadlock or a serialization failure rolls the whole transaction back and says nothing about
the request: the same work run again succeeds. So a service whose transaction may meet either
runs it again, a few times, after a short random pause (so the two transactions that collided
do not collide again), instead of showing the person a 500.
"""

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS = 5
# Pauses grow 10, 20, 40, 80 ms (each with up to as much again at random): well under a
# second in all, enough for the transaction that won to commit.
BASE_PAUSE = 0.01


def _conflict(error: OperationalError) -> bool:
    # psycopg's SerializationFailure (40001) and DeadlockDetected (40P01), as Django wraps them.
    return getattr(error.__cause__, "sqlstate", None) in ("40001", "40P01")


def retry_on_conflict(service: Callable[P, R]) -> Callable[P, R]:
    """Run `service` (which owns its transaction.atomic()) again when its transaction was
    rolled back for a deadlock or a serialization failure. Inside a caller's transaction it
    runs once: only the outermost transaction can be run again, so the caller retries."""

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return service(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return service(*args, **kwargs)
            except OperationalError as error:
                if attempt == ATTEMPTS or not _conflict(error):
                    raise
                pause = BASE_PAUSE * 2 ** (attempt - 1)
                logger.warning(
                    "%s: %s, attempt %d of %d; running it again",
                    service.__qualname__,
                    type(error.__cause__).__name__,
                    attempt,
                    ATTEMPTS,
                )
                time.sleep(pause + random.uniform(0, pause))  # noqa: S311 - jitter, not secrets
        raise AssertionError("unreachable")

    return run
