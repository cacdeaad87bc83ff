"""ASGI servers side by side on the configuration endpoint: prints figures, asserts nothing.

    DATABASE_URL=postgres://... ORGCONNECTORS_DEV=1 .venv/bin/python bench/web_servers.py

Serves the project's ASGI app (orgconnectors.asgi) with gunicorn + uvicorn workers and with
granian, each with 1 and with 2 worker processes on loopback, and drives
GET /api/v1/orgs/{org}/messages-api-config (a member with 10 connections, 5 of them OAuth, and
an API token: the data of bench/messages_api_config.py) with `wrk` (apt-get install wrk): a fixed
number of keep-alive connections for a fixed time. The rounds alternate between the servers so
that other load on the machine falls on both alike. Prints requests/s, p50 and p99 latency per
server and worker count (medians of the rounds), granian / gunicorn, and 2 workers / 1 worker
(the issue's target: at least 1.6x). wrk shares the machine's cores with the servers: on a
machine with 2 cores the 2-worker figures are held back by it.

The data lives in a database made for the run beside DATABASE_URL's (dropped at the end), as in
bench/messages_api_config.py. The rate limit is lifted for the run.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import messages_api_config as data  # noqa: E402  (the seeding code of the other bench)

BIN = Path(sys.executable).parent
APP = "orgconnectors.asgi:application"


def gunicorn_uvicorn(port: int, workers: int) -> list[str]:
    return [
        str(BIN / "gunicorn"), "-k", "uvicorn.workers.UvicornWorker", "-w", str(workers),
        "-b", f"127.0.0.1:{port}", "--log-level", "warning", APP,
    ]  # fmt: skip


def granian(port: int, workers: int) -> list[str]:
    return [
        str(BIN / "granian"), "--interface", "asginl", "--workers", str(workers),
        "--host", "127.0.0.1", "--port", str(port), "--no-ws", "--log-level", "warning",
        "--no-access-log", APP,
    ]  # fmt: skip


SERVERS = {"gunicorn+uvicorn": gunicorn_uvicorn, "granian": granian}


def _wait_until_up(url: str, token: str, process) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.args[0]}); run it by hand to see why")
        try:
            response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
            if response.status_code == 200:
                return
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the server did not start within 60 s")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, token: str, *, seconds: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency",
         "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(server) -> None:
    """Its whole process group: a server that lingers on open keep-alive connections is killed."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def run_one(name: str, workers: int, env: dict, token: str, args) -> dict:
    port = _free_port()
    url = f"http://127.0.0.1:{port}{data.CONFIG_PATH}"
    server = subprocess.Popen(
        SERVERS[name](port, workers), env=env, cwd=str(ROOT), start_new_session=True
    )
    try:
        _wait_until_up(url, token, server)
        wrk(url, token, seconds=2, connections=args.connections)  # warm every worker up
        return wrk(url, token, seconds=args.seconds, connections=args.connections)
    finally:
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per server and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("this bench drives the servers with wrk: apt-get install wrk")
    # A database of this bench's own name: bench/messages_api_config.py may run meanwhile.
    base = urlsplit(os.environ.get("DATABASE_URL", ""))
    throwaway = data._throwaway_postgres(urlunsplit(base._replace(path="/oc_web_servers")))
    if not throwaway:
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a database is made beside it)")
    database_url, drop = throwaway
    try:
        with tempfile.TemporaryDirectory(prefix="oc-bench-web-") as var_dir:
            env = data._environment(var_dir, database_url)
            # The rate limit (lifted anyway) counts per process: Redis is not what is measured.
            env.pop("REDIS_URL", None)
            env["ORGCONNECTORS_DB_POOL"] = "1"  # as `make serve` runs its web processes
            os.environ.clear()
            os.environ.update(env)
            token, _one = data.prepare()
            report(measure(env, token, args), args)
    finally:
        drop()


def measure(env: dict, token: str, args) -> dict:
    results: dict[tuple[str, int], list[dict]] = {}
    for _ in range(args.rounds):
        for workers in (1, 2):
            for name in SERVERS:
                results.setdefault((name, workers), []).append(
                    run_one(name, workers, env, token, args)
                )
    median = statistics.median
    return {
        key: {
            "rps": median(r["rps"] for r in runs),
            "p50": median(r["p50"] for r in runs),
            "p99": median(r["p99"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
            "socket_errors": "; ".join(r["socket_errors"] for r in runs if r["socket_errors"]),
        }
        for key, runs in results.items()
    }


def report(figures: dict, args) -> None:
    print(
        f"GET {data.CONFIG_PATH} (10 connections, 5 OAuth), wrk with {args.connections} "
        f"connections for {args.seconds} s, medians of {args.rounds} rounds, "
        f"{os.cpu_count()} cores:"
    )
    print(f"  {'server':18s} {'workers':>7s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} errors")
    for (name, workers), f in figures.items():
        print(
            f"  {name:18s} {workers:7d} {f['rps']:8.0f} {f['p50']:8.1f} {f['p99']:8.1f} "
            f"{f['errors']} {f['socket_errors']}"
        )
    for workers in (1, 2):
        ratio = figures[("granian", workers)]["rps"] / figures[("gunicorn+uvicorn", workers)]["rps"]
        print(f"  granian / gunicorn+uvicorn with {workers} worker(s): {ratio:.2f}x")
    for name in SERVERS:
        scale = figures[(name, 2)]["rps"] / figures[(name, 1)]["rps"]
        verdict = "met" if scale >= 1.6 else "NOT met"
        print(f"  {name}: 2 workers / 1 worker {scale:.2f}x (target >= 1.6x): {verdict}")


if __name__ == "__main__":
    main()
