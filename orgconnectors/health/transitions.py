"""How one check result moves a connector's health: the state machine and the next check time.

Pure functions over plain values, so every rule is tested without a database or a clock.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from orgconnectors.health.outcomes import FAILURES, Outcome

# One failed check is a blip; three in a row (about 15 minutes at the default interval and
# its backoff) is an outage worth telling the owners about.
DOWN_AFTER_FAILURES = 3
# However long a server has been failing, it is looked at again within the hour.
BACKOFF_CAP_SECONDS = 3600
DOWN = "down"
UNCHECKED = "unchecked"
# Statuses that a failure below DOWN_AFTER_FAILURES replaces (nothing better was known).
_NOTHING_GOOD_KNOWN = frozenset({UNCHECKED, Outcome.UNREACHABLE, Outcome.MISCONFIGURED})


@dataclass(frozen=True)
class Health:
    status: str
    consecutive_failures: int = 0
    down_since: datetime | None = None


def next_health(current: Health, outcome: Outcome, *, now: datetime) -> Health:
    """The connector's health after a check with `outcome`.

    Recovery takes one success. A failure only becomes `down` at the third in a row; before
    that a connector known to work keeps its status (a blip is not a state change, so it is
    neither audited nor emailed), and one never seen working shows what is wrong right away.
    """
    if outcome not in FAILURES:
        return Health(status=outcome.value)
    failures = current.consecutive_failures + 1
    if failures >= DOWN_AFTER_FAILURES:
        return Health(DOWN, failures, current.down_since or now)
    status = outcome.value if current.status in _NOTHING_GOOD_KNOWN else current.status
    return Health(status, failures, None)


def next_check_delay(
    interval_seconds: int, consecutive_failures: int, *, rng: random.Random | None = None
) -> float:
    """Seconds until the next check: the interval while working, doubling while failing.

    The backoff is jittered down by up to a quarter, so connectors that failed together (one
    provider's outage) spread out instead of being retried in lockstep, and stays within the
    cap (or the connector's own interval, when that is longer).
    """
    if consecutive_failures <= 0:
        return float(interval_seconds)
    cap = max(BACKOFF_CAP_SECONDS, interval_seconds)
    base = min(cap, interval_seconds * 2 ** min(consecutive_failures - 1, 20))
    return base * (rng or random).uniform(0.75, 1.0)


def next_check_at(
    now: datetime,
    interval_seconds: int,
    consecutive_failures: int,
    *,
    rng: random.Random | None = None,
) -> datetime:
    delay = next_check_delay(interval_seconds, consecutive_failures, rng=rng)
    return now + timedelta(seconds=delay)


def should_notify(before: str, after: str) -> bool:
    """Owners get an email when a connector goes down and when it comes back."""
    return before != after and DOWN in (before, after)
