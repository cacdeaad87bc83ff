"""One event loop and one pooled HTTP client per worker process, for every probe it runs.

A fresh client per probe pays for a new SSL context and new connections each time (about 3x
slower, measured). The pool's connections belong to the event loop that opened them, so the
loop must outlive a task too: it runs in a daemon thread, and synchronous code (Celery tasks,
services) hands it batches with `ProbeRunner.probe_many`.
"""

import asyncio
import logging
import math
import os
import threading
import time
from collections.abc import Sequence

import httpx2
from django.conf import settings

from orgconnectors.egress import build_async_client
from orgconnectors.health.bearer import attach_bearer
from orgconnectors.health.evidence import record_response
from orgconnectors.health.outcomes import Outcome, ProbeResult
from orgconnectors.health.probe import ProbeConfig, ProbeTarget, probe

logger = logging.getLogger(__name__)


def build_probe_client(
    *, config: ProbeConfig, concurrency: int, max_response_bytes: int | None = None
) -> httpx2.AsyncClient:
    """The pooled httpx2 client behind the egress guard, recording what servers answer and
    adding a probe's own token to its server's requests."""
    # A legacy SSE probe holds two connections (the stream and its POSTs).
    limits = httpx2.Limits(
        max_connections=concurrency * 2 + 10,
        max_keepalive_connections=concurrency * 2,
        keepalive_expiry=30.0,
    )
    options = {} if max_response_bytes is None else {"max_response_bytes": max_response_bytes}
    return build_async_client(
        library="httpx2",
        limits=limits,
        timeout=httpx2.Timeout(config.timeout, connect=min(config.timeout, 5.0)),
        headers={"User-Agent": f"{config.client_name}/{config.client_version}"},
        event_hooks={"request": [attach_bearer], "response": [record_response]},
        **options,
    )


class ProbeRunner:
    def __init__(
        self,
        *,
        config: ProbeConfig,
        concurrency: int = 20,
        max_response_bytes: int | None = None,
    ) -> None:
        self.config = config
        self.concurrency = concurrency
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="health-probes", daemon=True
        )
        self._thread.start()
        self._http, self._slots = self._call(self._start(max_response_bytes))

    async def _start(self, max_response_bytes: int | None):
        # Built on the loop that will use them.
        http = build_probe_client(
            config=self.config, concurrency=self.concurrency, max_response_bytes=max_response_bytes
        )
        # Shared by every batch of the process, so two threads sweeping together stay bounded.
        return http, asyncio.Semaphore(self.concurrency)

    def _call(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _one(
        self, target: ProbeTarget, config: ProbeConfig, start_by: float | None
    ) -> ProbeResult | None:
        async with self._slots:
            if start_by is not None and time.monotonic() > start_by:
                return None  # too late to end inside the batch's lease: left for another
            try:
                return await probe(target, http=self._http, config=config)
            except Exception as exc:
                # A bug here must not cost the rest of the batch its results.
                logger.exception("Health probe of %s crashed", target.url)
                return ProbeResult(
                    outcome=Outcome.MISCONFIGURED,
                    error=f"the check could not be completed ({type(exc).__name__})",
                )

    async def _many(self, targets: Sequence[ProbeTarget], config: ProbeConfig, start_by):
        # Each probe is its own task, so each gets its own context for its evidence.
        return await asyncio.gather(*(self._one(t, config, start_by) for t in targets))

    def probe_many(
        self,
        targets: Sequence[ProbeTarget],
        *,
        config: ProbeConfig | None = None,
        start_by: float | None = None,
    ) -> list[ProbeResult | None]:
        """Probe concurrently (at most `concurrency` at once); results in the targets' order.

        No probe starts after `start_by` (time.monotonic()): its result is None."""
        if not targets:
            return []
        config = config or self.config
        # Every probe ends by its own deadline; this only guards against a wedged loop, so a
        # task fails (and its claim lapses) rather than waiting forever.
        rounds = math.ceil(len(targets) / self.concurrency) + 1
        return self._call(
            self._many(list(targets), config, start_by), rounds * (config.timeout + 5) + 30
        )

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._call(self._http.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


def config_from_settings() -> ProbeConfig:
    return ProbeConfig(
        timeout=settings.ORGCONNECTORS_PROBE_TIMEOUT_MS / 1000,
        slow_ms=settings.ORGCONNECTORS_PROBE_SLOW_MS,
    )


_runner: ProbeRunner | None = None
_runner_pid: int | None = None
_runner_lock = threading.Lock()


def get_runner() -> ProbeRunner:
    """This process's runner, created on first use (after a fork, anew: threads do not survive)."""
    global _runner, _runner_pid
    with _runner_lock:
        if _runner is None or _runner_pid != os.getpid():
            _runner = ProbeRunner(
                config=config_from_settings(),
                concurrency=settings.ORGCONNECTORS_PROBE_CONCURRENCY,
            )
            _runner_pid = os.getpid()
        return _runner


def probe_once(target: ProbeTarget) -> ProbeResult:
    """Check one server as a worker process would: a runner built from the settings (its own
    loop and pooled client behind the egress guard), closed afterwards."""
    runner = ProbeRunner(
        config=config_from_settings(), concurrency=settings.ORGCONNECTORS_PROBE_CONCURRENCY
    )
    try:
        return runner.probe_many([target])[0]
    finally:
        runner.close()
