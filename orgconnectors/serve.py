"""The production layout on one machine: the ASGI web server with several worker processes,
one Celery worker and one beat, with DJANGO_DEBUG=0. Started by `make serve`.

    python -m orgconnectors.serve           # refuses without production settings, then runs
    python -m orgconnectors.serve --check   # only says which production settings are missing

Settings come only from the environment. It runs before Django is set up, so that it can name
every missing setting at once (settings.py stops at the first). If any process exits, the
others are stopped and this exits with an error; SIGTERM or Ctrl-C stops them all.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

REQUIRED = (
    "DJANGO_SECRET_KEY",
    "ORGCONNECTORS_ENCRYPTION_KEYS",
    "ORGCONNECTORS_BASE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "ORGCONNECTORS_AUDIT_SIGNING_KEY",
)
# Development conveniences that must be off in production.
FORBIDDEN = ("ORGCONNECTORS_DEV", "ORGCONNECTORS_ALLOW_LOOPBACK", "CELERY_TASK_ALWAYS_EAGER")
_OFF = {"", "0", "false", "no", "off"}


def production_problems(env: dict[str, str]) -> list[str]:
    problems = []
    missing = [name for name in REQUIRED if not env.get(name, "").strip()]
    if missing:
        problems.append(f"missing production settings: {', '.join(missing)}")
    database_url = env.get("DATABASE_URL", "")
    if database_url and not database_url.startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL must name a PostgreSQL database (postgres://...)")
    on = [name for name in FORBIDDEN if env.get(name, "").strip().lower() not in _OFF]
    if on:
        problems.append(f"development settings must be off in production: {', '.join(on)}")
    return problems


def _count(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name}={raw!r} is not a whole number of 1 or more")
    return int(raw)


def commands(env: dict[str, str]) -> dict[str, list[str]]:
    cores = os.cpu_count() or 1
    web_workers = _count(env, "ORGCONNECTORS_WEB_WORKERS", cores)
    worker_concurrency = _count(env, "ORGCONNECTORS_WORKER_CONCURRENCY", cores)
    host = env.get("ORGCONNECTORS_SERVE_HOST", "").strip() or "0.0.0.0"
    port = str(_count(env, "PORT", 8000))
    commands = {
        # granian served the configuration endpoint faster than gunicorn + uvicorn workers
        # (bench/web_servers.py). asginl: Django has no lifespan handler to run.
        "web": [
            str(BIN / "granian"), "--interface", "asginl", "--workers", str(web_workers),
            "--host", host, "--port", port, "--no-ws", "--respawn-failed-workers",
            "orgconnectors.asgi:application",
        ],
        "worker": [
            str(BIN / "celery"), "-A", "orgconnectors", "worker", "--loglevel", "INFO",
            "--concurrency", str(worker_concurrency),
        ],
    }  # fmt: skip
    # One beat for the whole deployment: further machines run with ORGCONNECTORS_SERVE_BEAT=0.
    # (A second beat would only send empty sweeps: every sweep claims its rows.)
    beat = env.get("ORGCONNECTORS_SERVE_BEAT", "1").strip().lower()
    if beat not in {"0", "1", "true", "false", "yes", "no", "on", "off"}:
        raise SystemExit(f"ORGCONNECTORS_SERVE_BEAT={beat!r} is not 1 or 0")
    if beat in {"1", "true", "yes", "on"}:
        celery = str(BIN / "celery")
        commands["beat"] = [celery, "-A", "orgconnectors", "beat", "--loglevel", "INFO"]
    return commands


def child_environment(env: dict[str, str]) -> dict[str, str]:
    child = dict(env)
    child["DJANGO_DEBUG"] = "0"
    child.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")
    # Web and worker processes count into files here; /metrics sums them (ops/metrics.py).
    var_dir = Path(env.get("ORGCONNECTORS_VAR_DIR") or ROOT / "var")
    metrics_dir = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or var_dir / "prometheus")
    shutil.rmtree(metrics_dir, ignore_errors=True)  # counts of processes that are gone
    metrics_dir.mkdir(parents=True)
    child["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return child


def run(env: dict[str, str]) -> int:
    child_env = child_environment(env)
    # Only the web: Celery's prefork children must not inherit a parent's pool (settings.py).
    web_env = {**child_env, "ORGCONNECTORS_DB_POOL": "1"}
    processes = {
        name: subprocess.Popen(
            command,
            env=web_env if name == "web" else child_env,
            cwd=str(ROOT),
        )
        for name, command in commands(env).items()
    }
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    exited = None
    while not stopping and exited is None:
        exited = next((n for n, p in processes.items() if p.poll() is not None), None)
        time.sleep(0.5)
    if exited:
        print(f"serve: the {exited} process exited; stopping the others", file=sys.stderr)
    # Each stops its own children (granian's workers, Celery's pool) on SIGTERM. They stay in
    # this process's group, so a supervisor that kills the group leaves nothing behind.
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 30
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return 1 if exited else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the settings")
    args = parser.parse_args()
    env = dict(os.environ)
    problems = production_problems(env)
    if problems:
        for problem in problems:
            print(f"serve: refusing to start: {problem}", file=sys.stderr)
        raise SystemExit(2)
    if args.check:
        return
    raise SystemExit(run(env))


if __name__ == "__main__":
    main()
