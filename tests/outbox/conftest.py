"""A Redis of the tests' own, which they stop and start, and a Celery worker on it.

Never the shared Redis on 6379: a redis-server subprocess on a free port, with nothing saved to
disk. While a test uses it, Django's cache, the rate-limit counter and Celery's broker all point
there (through Django's settings, which the Celery app reads on each lookup; its connection
pools are dropped so the next publish connects to the new broker).
"""

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import kombu.pools
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connections
from django.test import override_settings

from orgconnectors.celery import app as celery_app
from tests.loopback import free_socket

START_SECONDS = 20
WORKER_SECONDS = 90


def wait_for(condition: Callable[[], object], *, seconds: float, what: str):
    """Poll `condition` until it is true (bounded); its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up waiting for {what} after {seconds} s")
        time.sleep(0.05)


class OwnRedis:
    def __init__(self, directory: Path):
        with free_socket() as sock:
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, seconds=START_SECONDS, what=f"redis-server on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=START_SECONDS)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


def queued_kwargs(own_redis) -> list[dict]:
    """The kwargs of every task message waiting in the broker's default queue."""
    found = []
    for raw in own_redis.client().lrange("celery", 0, -1):
        message = json.loads(raw)
        _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append(kwargs)
    return found


def drop_celery_pools() -> None:
    # The pools were made for whatever broker the app saw first; kombu keeps them in a registry
    # by connection, so that is emptied too: the next use connects to the broker now set.
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    """A running Redis of this test's own, with the cache, rate limits and broker on it.

    Its settings are put back in this fixture's teardown, before conftest's autouse fixtures
    clean the (shared) cache."""
    server = OwnRedis(tmp_path)
    server.start()
    cache = {**django_settings.CACHES["default"], "LOCATION": server.url}
    pointed = override_settings(
        REDIS_URL=server.url, CELERY_BROKER_URL=server.url, CACHES={"default": cache}
    )
    pointed.enable()
    drop_celery_pools()
    try:
        yield server
    finally:
        pointed.disable()
        server.stop()
        drop_celery_pools()


def test_database_url() -> str:
    """DATABASE_URL with the test database's name, for the worker subprocess."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connections["default"].settings_dict["NAME"]))


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_worker(own_redis, tmp_path) -> Iterator[Callable[[], Worker]]:
    """start_worker() -> a real Celery worker (solo pool) on own_redis and the test database."""
    started: list[Worker] = []

    def start() -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        env = {
            **os.environ,
            "REDIS_URL": own_redis.url,
            "DATABASE_URL": test_database_url(),
            "ORGCONNECTORS_EXPORT_DIR": str(tmp_path / "exports"),
            # Emails are printed to the worker's output, where the test reads them.
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        }
        with log.open("w") as out:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "-A", "orgconnectors", "worker"),
                    *("--pool=solo", "--loglevel=INFO", "--without-mingle", "--without-gossip"),
                    *("--without-heartbeat", f"--hostname=outbox-{os.getpid()}@localhost"),
                ],
                env=env,
                cwd=django_settings.BASE_DIR,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.process.terminate()
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
