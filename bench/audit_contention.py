"""Audited writes in one hot organization: prints figures and ratios, asserts nothing.

    ORGCONNECTORS_DEV=1 ORGCONNECTORS_ALLOW_LOOPBACK=1 \\
      .venv/bin/python bench/audit_contention.py [--before PATH] [--rounds 3] [--writes 200]

Measures, for the code of this checkout and (with --before) the code of another checkout of
the project (e.g. `git worktree add /tmp/old-chain <commit>`), each in a fresh PostgreSQL
database (oc_bench_contention on the server of DATABASE_URL, dropped and migrated each run):

- one audited write alone: renaming a connector (`connector_update`) `--writes` times in a row,
  median and mean time per write, its sealing after commit included;
- the hot organization: 16 threads registering, renaming, enabling and disabling connectors
  (`--rounds` rounds of four operations each) while 2 threads record health checks that make
  connectors go down and back up: wall time, operations that succeeded, errors (deadlocks),
  successful operations per second, and whether the chain verifies afterwards.

With --before it prints after/before ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "oc_bench_contention"
WRITERS, HEALTH_WORKERS, HEALTH_CONNECTORS, CYCLES = 16, 2, 4, 2


def bench_url() -> str:
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/orgconnectors"
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("bench/audit_contention.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    return urlunsplit(parts._replace(path="/" + os.environ.get("BENCH_DATABASE", BENCH_DB)))


def fresh_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# The measuring child: runs with the code of the checkout it is given.


def measure(rounds: int, writes: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from orgconnectors.audit.chain import audit_chain_verify
    from orgconnectors.audit.models import AuditEvent
    from orgconnectors.connectors.connections import connection_disable, connection_enable
    from orgconnectors.connectors.models import Connector
    from orgconnectors.connectors.services import connector_register, connector_update
    from orgconnectors.core.actor import Actor
    from orgconnectors.health.outcomes import Outcome, ProbeResult
    from orgconnectors.health.results import health_result_record
    from orgconnectors.organizations.models import Membership, Organization, Plan
    from orgconnectors.organizations.services import membership_add, user_get_or_create

    enterprise = Plan.objects.get(code="enterprise")
    system = Actor.system("bench")

    def organization(slug: str) -> Organization:
        return Organization.objects.create(slug=slug, name=slug, plan=enterprise)

    def owners(org, n: int) -> list[Membership]:
        return [
            membership_add(
                organization=org,
                user=user_get_or_create(email=f"{org.slug}-{i}@bench.test"),
                role="owner",
                actor=system,
            )
            for i in range(n)
        ]

    # One write alone.
    solo = organization("solo")
    (owner,) = owners(solo, 1)
    actor = Actor(user=owner.user, ip="203.0.113.7", user_agent="bench/1")
    connector = connector_register(
        organization=solo, actor=actor, name="Solo", url="https://solo.example.com/mcp"
    )
    times = []
    for i in range(writes):
        start = time.perf_counter()
        connector_update(connector=connector, actor=actor, name=f"Solo {i}")
        times.append(time.perf_counter() - start)

    # The hot organization.
    hot = organization("hot")
    members = owners(hot, WRITERS)
    checked = [
        connector_register(
            organization=hot, actor=system, name=f"Checked {i}", url=f"https://c{i}.example.com/"
        )
        for i in range(HEALTH_CONNECTORS)
    ]
    lock = threading.Lock()
    errors: list[str] = []
    ok = [0]
    barrier = threading.Barrier(WRITERS + HEALTH_WORKERS)

    def attempt(step) -> bool:
        try:
            step()
        except Exception as error:  # noqa: BLE001 - counted, the figure is what matters
            with lock:
                errors.append(type(error).__name__ + ": " + str(error).splitlines()[0])
            return False
        with lock:
            ok[0] += 1
        return True

    def writer(n: int, membership: Membership):
        me = Actor(user=membership.user, ip="203.0.113.7", user_agent="bench/1")
        barrier.wait()
        for r in range(rounds):
            url = f"https://w{n}-{r}.example.com/mcp"

            def mine(url=url):
                return Connector.objects.get(url=url)

            name = f"W{n} {r}"
            attempt(lambda url=url, name=name: connector_register(
                organization=hot, actor=me, name=name, url=url))  # fmt: skip
            attempt(lambda name=name: connector_update(connector=mine(), actor=me, name=name + "."))
            attempt(lambda: connection_enable(membership=membership, connector=mine(), actor=me))
            attempt(lambda: connection_disable(membership=membership, connector=mine(), actor=me))
        connection.close()

    down = ProbeResult(Outcome.UNREACHABLE, error="connection refused")
    up = ProbeResult(Outcome.HEALTHY, latency_ms=100)

    def health(ids: list[int]):
        barrier.wait()
        for _ in range(CYCLES):
            for pk in ids:
                for result in (down, down, down, up):
                    attempt(lambda pk=pk, result=result: health_result_record(
                        connector_id=pk, result=result))  # fmt: skip
        connection.close()

    threads = [threading.Thread(target=writer, args=(n, m)) for n, m in enumerate(members)]
    threads += [
        threading.Thread(target=health, args=([c.pk for c in checked[w::HEALTH_WORKERS]],))
        for w in range(HEALTH_WORKERS)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    report = audit_chain_verify(organization=hot)
    return {
        "write_median_ms": 1000 * statistics.median(times),
        "write_mean_ms": 1000 * statistics.fmean(times),
        "hot_operations": WRITERS * rounds * 4 + HEALTH_WORKERS * CYCLES * 8,
        "hot_ok": ok[0],
        "hot_errors": len(errors),
        "hot_error_kinds": sorted(set(errors))[:3],
        "hot_seconds": wall,
        "hot_ok_per_second": ok[0] / wall,
        "chain_intact": report.intact,
        "chain_events": report.events,
        "events_stored": AuditEvent.objects.filter(organization=hot).count(),
    }


def run(code: Path, rounds: int, writes: int) -> dict:
    url = bench_url()
    fresh_database(url)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(code),
        "DJANGO_SETTINGS_MODULE": "orgconnectors.settings",
    }
    args = [sys.executable, str(Path(__file__).resolve()), "--measure"]
    args += ["--rounds", str(rounds), "--writes", str(writes)]
    done = subprocess.run(args, cwd=code, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the measurement in {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        sys.path.insert(0, os.getcwd())
        print(json.dumps(measure(options.rounds, options.writes)))
        return
    results = {"after": run(ROOT, options.rounds, options.writes)}
    if options.before:
        results["before"] = run(options.before.resolve(), options.rounds, options.writes)
    names = list(results)
    compare = "before" in results
    print(f"{'':22}" + "".join(f"{name:>12}" for name in names) + ("  after/before" * compare))
    for key in results["after"]:
        values = [results[name][key] for name in names]
        if key == "hot_error_kinds":
            for name in names:
                print(f"errors {name}: {values[names.index(name)] or 'none'}")
            continue
        cells = "".join(f"{v:>12.2f}" if isinstance(v, float) else f"{v!s:>12}" for v in values)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        ratio = f"  {values[0] / values[1]:.2f}" if compare and numbers and values[1] else ""
        print(f"{key:22}{cells}{ratio}")


if __name__ == "__main__":
    main()
