"""Health sweep scale-out, one worker process against two: prints figures, asserts no timing.

    ORGCONNECTORS_DEV=1 ORGCONNECTORS_ALLOW_LOOPBACK=1 .venv/bin/python bench/sweep_scaleout.py

N connectors (default 2,000, `--connectors`) over 20 organizations are due at once, in a
dedicated PostgreSQL database (oc_bench_sweep on the server of DATABASE_URL, created afresh each
run from a migrated template, oc_bench_sweep_template; BENCH_DATABASE names another). They point
at a few SDK MCP servers on loopback, each in a process of its own, answering every request
after 100 ms (bench/health_probe.py's servers). One worker process runs the sweep the Celery
task runs (`health_sweep`, which claims batches with SKIP LOCKED) until nothing is due; the
connectors are made due again and their checks deleted; then two worker processes run it side
by side until nothing is due. Printed: the wall time of each run, the ratio (two workers / one;
target <= 0.6x) and, per run, how many connectors were checked 0, 1 and more than once.
Exits non-zero only if a connector was checked more than once in a run (a correctness failure).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")

from oauth_refresh import fresh_database, say  # noqa: E402

BENCH_DB = "oc_bench_sweep"
ORGANIZATIONS = 20
SERVERS = 4
DELAY = 0.1


def seed(count: int, urls: list[str]) -> None:
    """`count` connectors due now, spread over the organizations and the servers."""
    from datetime import timedelta

    from django.utils import timezone

    from orgconnectors.connectors.models import Connector
    from orgconnectors.organizations.models import Organization, Plan

    plan = Plan.objects.get(code="enterprise")
    organizations = Organization.objects.bulk_create([
        Organization(slug=f"bench-{o}", name=f"Bench {o}", plan=plan) for o in range(ORGANIZATIONS)
    ])  # fmt: skip
    due = timezone.now() - timedelta(seconds=1)
    Connector.objects.bulk_create(
        [
            Connector(
                organization=organizations[i % ORGANIZATIONS],
                name=f"Server {i}",
                # A query string per connector: each is its own row under one_connector_per_url.
                url=f"{urls[i % len(urls)]}?c={i}",
                next_check_at=due,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )


def reset() -> None:
    """Every connector due again, unchecked, with no check recorded."""
    from datetime import timedelta

    from django.utils import timezone

    from orgconnectors.connectors.models import Connector
    from orgconnectors.health.models import HealthCheck

    HealthCheck.objects.all().delete()
    Connector.objects.update(
        next_check_at=timezone.now() - timedelta(seconds=1),
        status=Connector.Status.UNCHECKED,
        last_checked_at=None,
        consecutive_failures=0,
        discovered_tools=[],
    )


def checks_per_connector() -> dict[str, int]:
    from django.db.models import Count

    from orgconnectors.connectors.models import Connector

    counts = Connector.objects.annotate(n=Count("health_checks")).values_list("n", flat=True)
    tally = {"0": 0, "1": 0, ">1": 0}
    for n in counts:
        tally["0" if n == 0 else "1" if n == 1 else ">1"] += 1
    return tally


def worker(start_at: float) -> None:
    """One OS process sweeping until nothing is due, as the Celery task would; prints JSON."""
    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would be timed too
    from orgconnectors.health.services import health_sweep

    claimed = recorded = batches = 0
    while time.time() < start_at:
        time.sleep(0.005)
    started = time.perf_counter()
    while True:
        # No on_more_due: this loop is the follow-up sweep the task would enqueue.
        report = health_sweep()
        if not report.claimed:
            break
        claimed, recorded, batches = (
            claimed + report.claimed,
            recorded + report.recorded,
            batches + 1,
        )
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {"elapsed": elapsed, "claimed": claimed, "recorded": recorded, "batches": batches}
        )
    )


def run(workers: int) -> tuple[float, list[dict]]:
    start_at = time.time() + 3  # the workers start sweeping at the same moment
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(start_at)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=600)
        if process.returncode:
            sys.exit(f"A worker process failed (exit {process.returncode}).")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return max(r["elapsed"] for r in results), results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", type=int, default=2000, help="connectors due at once")
    parser.add_argument("--worker", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return 0

    os.environ.setdefault("ORGCONNECTORS_DEV", "1")
    os.environ["ORGCONNECTORS_ALLOW_LOOPBACK"] = "1"  # the MCP servers are on 127.0.0.1
    os.environ["DATABASE_URL"] = fresh_database(os.environ.get("BENCH_DATABASE", BENCH_DB))
    from health_probe import start_servers

    urls, servers = start_servers(SERVERS, DELAY)
    try:
        import django

        django.setup()
        from django.conf import settings

        say(f"Seeding {args.connectors:,} connectors due now on {SERVERS} servers "
            f"answering after {DELAY * 1000:.0f} ms...")  # fmt: skip
        seed(args.connectors, urls)
        figures = {}
        for workers in (1, 2):
            if workers > 1:
                reset()
            wall, results = run(workers)
            figures[workers] = (wall, results, checks_per_connector())
    finally:
        for server in servers:
            server.kill()

    batch, concurrency = (
        settings.ORGCONNECTORS_PROBE_BATCH_SIZE,
        settings.ORGCONNECTORS_PROBE_CONCURRENCY,
    )
    say(f"\n{args.connectors:,} connectors due at once, batch {batch}, concurrency "
        f"{concurrency} per worker, {os.cpu_count()} cores:")  # fmt: skip
    twice = 0
    for workers, (wall, results, tally) in figures.items():
        say(f"  {workers} worker process{'es' if workers > 1 else ''}: {wall:.1f} s wall")
        for number, result in enumerate(results, 1):
            say(f"    worker {number}: {result['recorded']:,} recorded of {result['claimed']:,} "
                f"claimed in {result['batches']} batches, {result['elapsed']:.1f} s")  # fmt: skip
        say(f"    connectors checked 0 times: {tally['0']}, once: {tally['1']}, "
            f"more than once: {tally['>1']}")  # fmt: skip
        twice += tally[">1"]
    ratio = figures[2][0] / figures[1][0]
    say(f"  ratio two workers / one: {ratio:.2f}x (target <= 0.6x)")
    if twice:
        say(f"FAILED: {twice} connector checks repeated within a run.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
