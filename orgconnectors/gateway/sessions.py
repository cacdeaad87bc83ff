"""Live sessions, as owners see them: who uses the gateway, through which client, on which
connector, since when, and how many calls in the last minute.

The gateway runs the SDK in stateless mode: no session stays open between two requests. So a
"session" here is a (member, client name, connector or the organization endpoint) the gateway
has seen within ORGCONNECTORS_GATEWAY_SESSION_WINDOW_SECONDS; its "since" is when it was first
seen after a quiet spell of that length. Each listing and call records a sighting in Redis
(REDIS_URL; shared by every gateway process) off the request's path, in one pipeline; without
REDIS_URL, in this process's memory. A sighting lost while Redis is down is logged, never an
error for the call.
"""

import asyncio
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
import redis.asyncio as aredis
from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 0.5
KEEP_SECONDS = 86_400
_FIRST, _LAST, _CALLS = (
    "orgconnectors-gw-session-first:{}",
    "orgconnectors-gw-session-last:{}",
    "orgconnectors-gw-session-calls:{}",
)


@dataclass(frozen=True)
class LiveSession:
    membership_id: int
    connector_id: int | None  # None: the organization endpoint
    client: str
    since: datetime
    last_seen: datetime
    calls_last_minute: int


def _field(membership_id: int, connector_id: int | None, client: str) -> str:
    return json.dumps([membership_id, connector_id, client[:100]], separators=(",", ":"))


# Without Redis: {organization id: {field: [first, last, [call times]]}}.
_memory: dict[int, dict[str, list]] = {}
_memory_lock = threading.Lock()
_clients: dict[tuple[str, int], aredis.Redis] = {}
_pending: set[asyncio.Task] = set()


def _async_redis(url: str) -> aredis.Redis:
    key = (url, id(asyncio.get_running_loop()))
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = aredis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
    return client


async def _record(organization_id: int, field: str, now: float, call: bool) -> None:
    url = settings.REDIS_URL
    if not url:
        with _memory_lock:
            seen = _memory.setdefault(organization_id, {}).setdefault(field, [now, now, []])
            if now - seen[1] > settings.ORGCONNECTORS_GATEWAY_SESSION_WINDOW_SECONDS:
                seen[0] = now
            seen[1] = now
            if call:
                seen[2] = [t for t in seen[2] if t > now - 60] + [now]
        return
    first, last, calls = (k.format(organization_id) for k in (_FIRST, _LAST, _CALLS))
    try:
        pipe = _async_redis(url).pipeline(transaction=False)
        pipe.hsetnx(first, field, now)
        pipe.hset(last, field, now)
        if call:
            pipe.zadd(calls, {f"{field}|{uuid.uuid4().hex[:12]}": now})
            pipe.zremrangebyscore(calls, 0, now - 60)
        for key in (first, last, calls):
            pipe.expire(key, KEEP_SECONDS)
        await pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning("gateway: a live-session sighting was lost (%s)", type(exc).__name__)


def session_seen(
    *, organization_id: int, membership_id: int, connector_id: int | None, client: str, call: bool
) -> None:
    """Record a sighting off the request's path (a task on the serving loop)."""
    field = _field(membership_id, connector_id, client)
    task = asyncio.get_running_loop().create_task(
        _record(organization_id, field, time.time(), call)
    )
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def _at(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def live_sessions(*, organization_id: int) -> list[LiveSession]:
    """The organization's sessions seen within the window, the most recent first (for the
    owners' page; sync). Drops the ones that went quiet."""
    now = time.time()
    window = settings.ORGCONNECTORS_GATEWAY_SESSION_WINDOW_SECONDS
    url = settings.REDIS_URL
    rows: dict[str, tuple[float, float]] = {}
    counts: dict[str, int] = {}
    if not url:
        with _memory_lock:
            for field, (first, last, calls) in list(_memory.get(organization_id, {}).items()):
                if now - last > window:
                    _memory[organization_id].pop(field, None)
                    continue
                rows[field] = (first, last)
                counts[field] = sum(1 for t in calls if t > now - 60)
    else:
        client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        first_key, last_key, calls_key = (
            k.format(organization_id) for k in (_FIRST, _LAST, _CALLS)
        )
        try:
            firsts = client.hgetall(first_key)
            lasts = client.hgetall(last_key)
            recent = client.zrangebyscore(calls_key, now - 60, "+inf")
            stale = [f for f, last in lasts.items() if now - float(last) > window]
            stale += [f for f in firsts if f not in lasts]
            if stale:
                client.hdel(first_key, *stale)
                client.hdel(last_key, *stale)
        except (RedisError, OSError) as exc:
            logger.warning("live sessions: Redis did not answer (%s)", type(exc).__name__)
            return []
        finally:
            client.close()
        for raw, last in lasts.items():
            if now - float(last) > window:
                continue
            field = raw.decode()
            rows[field] = (float(firsts.get(raw, last)), float(last))
        for member in recent:
            field = member.decode().rsplit("|", 1)[0]
            counts[field] = counts.get(field, 0) + 1
    sessions = []
    for field, (first, last) in rows.items():
        membership_id, connector_id, client_name = json.loads(field)
        sessions.append(
            LiveSession(
                membership_id=membership_id,
                connector_id=connector_id,
                client=client_name,
                since=_at(first),
                last_seen=_at(last),
                calls_last_minute=counts.get(field, 0),
            )
        )
    return sorted(sessions, key=lambda s: s.last_seen, reverse=True)


def forget_sessions() -> None:
    """For tests: nothing seen in memory."""
    with _memory_lock:
        _memory.clear()
