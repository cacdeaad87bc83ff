"""Live sessions, as owners see them: who uses the gateway, through which client, on which
connector, since when, and how many calls in the last minute.

The gateway runs the SDK in stateless mode: no session stays open between two requests. So a
"session" here is a (member, client name, connector or the organization endpoint) the gateway
has seen within ORGCONNECTORS_GATEWAY_SESSION_WINDOW_SECONDS; its "since" is when it was first
seen after a quiet spell of that length. Each listing and call records a sighting in process
memory; every second one pipeline writes them to Redis (REDIS_URL; shared by every gateway
process), so the live view lags at most that; without REDIS_URL they stay in this process's
memory. Sightings lost while Redis is down are logged, never an error for a call.
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


def _async_redis(url: str) -> aredis.Redis:
    key = (url, id(asyncio.get_running_loop()))
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = aredis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
    return client


# Sightings waiting for the next flush: {(organization id, field): [first, last, calls]}.
_batch: dict[tuple[int, str], list] = {}
FLUSH_SECONDS = 1.0
_flusher: dict[int, asyncio.Task] = {}


def _remember(organization_id: int, field: str, now: float, call: bool) -> None:
    with _memory_lock:
        seen = _memory.setdefault(organization_id, {}).setdefault(field, [now, now, []])
        if now - seen[1] > settings.ORGCONNECTORS_GATEWAY_SESSION_WINDOW_SECONDS:
            seen[0] = now
        seen[1] = now
        if call:
            seen[2] = [t for t in seen[2] if t > now - 60] + [now]


async def _flush(url: str) -> None:
    """Writes the waiting sightings in one pipeline. A call count goes in as one member of the
    organization's sorted set, `{field}|{count}|{nonce}`, scored with the flush's time."""
    if not _batch:
        return
    waiting = dict(_batch)
    _batch.clear()
    now = time.time()
    try:
        pipe = _async_redis(url).pipeline(transaction=False)
        organizations = set()
        for (organization_id, field), (first, last, calls) in waiting.items():
            keys = [k.format(organization_id) for k in (_FIRST, _LAST, _CALLS)]
            pipe.hsetnx(keys[0], field, first)
            pipe.hset(keys[1], field, last)
            if calls:
                pipe.zadd(keys[2], {f"{field}|{calls}|{uuid.uuid4().hex[:12]}": last})
            organizations.add(organization_id)
        for organization_id in organizations:
            keys = [k.format(organization_id) for k in (_FIRST, _LAST, _CALLS)]
            pipe.zremrangebyscore(keys[2], 0, now - 60)
            for key in keys:
                pipe.expire(key, KEEP_SECONDS)
        await pipe.execute()
    except (RedisError, OSError) as exc:
        logger.warning(
            "gateway: %d live-session sightings were lost (%s)", len(waiting), type(exc).__name__
        )


async def _flush_forever(url: str) -> None:
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        await _flush(url)


def session_seen(
    *, organization_id: int, membership_id: int, connector_id: int | None, client: str, call: bool
) -> None:
    """Record a sighting: in memory now, in Redis at the next flush (every FLUSH_SECONDS, on
    the serving loop), so a call pays a dict update and no round trip."""
    field = _field(membership_id, connector_id, client)
    now = time.time()
    url = settings.REDIS_URL
    if not url:
        _remember(organization_id, field, now, call)
        return
    waiting = _batch.get((organization_id, field))
    if waiting is None:
        _batch[(organization_id, field)] = [now, now, int(call)]
    else:
        waiting[1] = now
        waiting[2] += int(call)
    loop = asyncio.get_running_loop()
    flusher = _flusher.get(id(loop))
    if flusher is None or flusher.done():
        _flusher[id(loop)] = loop.create_task(_flush_forever(url))


async def sessions_flush() -> None:
    """Write what waits now (for tests and a graceful stop)."""
    if settings.REDIS_URL:
        await _flush(settings.REDIS_URL)


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
            field, count, _nonce = member.decode().rsplit("|", 2)
            counts[field] = counts.get(field, 0) + int(count)
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
