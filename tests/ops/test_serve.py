import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from django.db import connections

from orgconnectors.serve import REQUIRED, commands
from tests.ops.redis_server import free_port, throwaway_redis  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "serve-test-metrics-token"


def serve(env: dict, *args: str, **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(
        [sys.executable, "-m", "orgconnectors.serve", *args], env=env, cwd=str(ROOT), text=True,
        **kwargs,
    )  # fmt: skip


def bare_environment() -> dict:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV")
    return {name: os.environ[name] for name in keep if name in os.environ}


def test_it_refuses_to_start_without_production_settings_naming_each_one():
    process = serve(bare_environment())
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "refusing to start" in err
    for name in REQUIRED:
        assert name in err


def production_environment(tmp_path, *, database_url: str, redis_url: str, port: int) -> dict:
    return {
        **bare_environment(),
        "DJANGO_SECRET_KEY": "a-production-like-secret-key-" + "x" * 40,
        "ORGCONNECTORS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ORGCONNECTORS_BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ORGCONNECTORS_AUDIT_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ORGCONNECTORS_VAR_DIR": str(tmp_path),
        "ORGCONNECTORS_METRICS_TOKEN": METRICS_TOKEN,
        "ORGCONNECTORS_SERVE_HOST": "127.0.0.1",
        "PORT": str(port),
        "ORGCONNECTORS_WEB_WORKERS": "2",
        "ORGCONNECTORS_WORKER_CONCURRENCY": "1",
    }


def test_it_refuses_development_settings(tmp_path):
    env = production_environment(
        tmp_path, database_url="postgres://db/oc", redis_url="redis://r/0", port=8000
    )
    process = serve({**env, "ORGCONNECTORS_DEV": "1"}, "--check")
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "ORGCONNECTORS_DEV" in err


def _wait_ready(base: str, process) -> httpx.Response:
    deadline, last = time.monotonic() + 90, None
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited"
        try:
            last = httpx.get(base + "/readyz", timeout=5)
            if last.status_code == 200:
                return last
        except httpx.TransportError as failure:
            last = failure
        time.sleep(0.2)
    raise AssertionError(f"serve did not become ready within 90 s: {getattr(last, 'text', last)}")


@pytest.mark.django_db  # the test database exists; serve connects to it on its own
def test_it_serves_the_web_a_worker_and_beat_and_stops_them_all(
    tmp_path,
    throwaway_redis,  # noqa: F811
):
    settings_dict = connections["default"].settings_dict
    database_url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD']}@{settings_dict['HOST']}"
        f":{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    port = free_port()
    env = production_environment(
        tmp_path, database_url=database_url, redis_url=throwaway_redis.url, port=port
    )
    # To a file: a pipe nobody reads fills up and blocks the servers' logging.
    log = (tmp_path / "serve.log").open("w")
    process = serve(env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_ready(base, process).json()["checks"] == {"database": "ok", "broker": "ok"}
        assert httpx.get(base + "/healthz").status_code == 200
        metrics = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert metrics.status_code == 200
        assert "orgconnectors_claims_expired_pending" in metrics.text
        # Debug is off: an unknown page is the plain 404, not Django's debug page.
        missing = httpx.get(base + "/no-such-page/")
        assert missing.status_code == 404
        assert "DEBUG = True" not in missing.text
        # The web workers, the Celery worker and beat are running under serve.
        assert (tmp_path / "prometheus").is_dir()
        children = subprocess.run(
            ["ps", "-ww", "-o", "args=", "--ppid", str(process.pid)], capture_output=True, text=True
        ).stdout
        assert "granian" in children
        assert "worker" in children
        assert " beat" in children
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        assert process.returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]
    finally:
        # serve and everything it started share one process group.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        log.close()


def test_a_second_machine_runs_without_beat_when_told():
    with_beat = commands({})
    without = commands({"ORGCONNECTORS_SERVE_BEAT": "0"})

    assert set(with_beat) == {"web", "worker", "beat"}
    assert set(without) == {"web", "worker"}


def test_a_beat_switch_that_is_neither_on_nor_off_is_refused_with_its_value():
    with pytest.raises(SystemExit, match="ORGCONNECTORS_SERVE_BEAT='maybe' is not 1 or 0"):
        commands({"ORGCONNECTORS_SERVE_BEAT": "maybe"})
