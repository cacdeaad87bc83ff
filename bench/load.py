"""Mixed load on the production layout over loopback: prints figures, asserts no timing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orgconnectors \
      .venv/bin/python bench/load.py [--clients 200] [--seconds 60] [--processes 2]

The web server runs as `make serve` runs it: granian, 2 worker processes, DJANGO_DEBUG=0,
ORGCONNECTORS_DB_POOL=1, REDIS_URL (database 13 unless BENCH_REDIS_URL says otherwise), a
secret key and an encryption key generated for the run, on a PostgreSQL database of its own
beside DATABASE_URL's (dropped at the end). The configuration endpoint's rate limit is raised
so that it does not dominate what is measured.

One Team organization (limit: 10 enabled connections per member) with 15 connectors without
OAuth and --members members, each with an API token and a browser session. Every client is
one member's app or browser, one keep-alive connection (httpx.AsyncClient), and loops without
pause over a mix: GET messages-api-config (60 %), PUT (2 in 3) or DELETE its own connection
to a random connector through the API (30 %: several clients per member enable at once, so the
limit is contended), GET the My connectors page with the session cookie (10 %). The clients run in
--processes processes on the same cores as the server and PostgreSQL.

Printed: requests/s per kind and overall, p50/p99 latency per kind, errors (5xx and
connection errors), 4xx and 3xx by kind and status (a 409 from the plan limit is expected),
and, from the database after the run, the most connections in use by any member against the
plan's limit. Exit status 1 when a member holds more than the limit.
"""

import argparse
import asyncio
import base64
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
ORG = "load"
CONNECTORS = 15
PRECONNECTED = 5
MIX = (("config", 0.6), ("toggle", 0.3), ("page", 0.1))
CONFIG_PATH = f"/api/v1/orgs/{ORG}/messages-api-config"
PAGE_PATH = f"/orgs/{ORG}/my-connectors/"


# The database and the server ---------------------------------------------------------------


def throwaway_database(url: str):
    """A new database beside `url`'s for this run: (its URL, a function that drops it)."""
    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a database is made beside it)")
    name = "oc_bench_load"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))

    def run(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")), lambda: run(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    )


def production_environment(var_dir: str, database_url: str, port: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORGCONNECTORS_", "DJANGO_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "orgconnectors.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(48)).decode(),
        "ORGCONNECTORS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ORGCONNECTORS_BASE_URL": f"http://127.0.0.1:{port}",
        "ORGCONNECTORS_VAR_DIR": var_dir,
        "ORGCONNECTORS_DB_POOL": "1",
        "ORGCONNECTORS_ALLOW_LOOPBACK": "1",
        "ORGCONNECTORS_CONFIG_RATE_LIMIT": "100000/min",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        "LOG_LEVEL": "WARNING",
    })  # fmt: skip
    return env


def granian(port: int) -> list[str]:
    return [
        str(BIN / "granian"), "--interface", "asginl", "--workers", "2",
        "--host", "127.0.0.1", "--port", str(port), "--no-ws", "--log-level", "warning",
        "--no-access-log", "orgconnectors.asgi:application",
    ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, token: str, server) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("granian exited; run it by hand with the same environment to see why")
        try:
            response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
        return
    raise SystemExit("the server did not start within 60 s")


def stop(server) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


# The data ----------------------------------------------------------------------------------


def prepare(members: int) -> tuple[list[dict], list[int]]:
    """Migrate and fill the database: each member's API token and session cookie; connector ids."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from orgconnectors.api.tokens import api_token_create
    from orgconnectors.connectors.models import Connection, Connector
    from orgconnectors.core.actor import Actor
    from orgconnectors.organizations.models import Membership, Organization, Plan

    call_command("migrate", verbosity=0, interactive=False)
    organization = Organization.objects.create(
        slug=ORG, name="Load", plan=Plan.objects.get(code="team")
    )
    connectors = [
        Connector.objects.create(
            organization=organization,
            name=f"connector {n}",
            url=f"https://mcp{n}.load.example.com/mcp",
            auth=Connector.Auth.NONE,
            status=Connector.Status.HEALTHY,
        )
        for n in range(CONNECTORS)
    ]
    actor = Actor.system("bench")
    now = timezone.now()
    users = []
    for n in range(members):
        user = get_user_model().objects.create_user(email=f"m{n}@load.test", password=None)
        membership = Membership.objects.create(
            user=user, organization=organization, role=Membership.Role.MEMBER
        )
        for connector in connectors[:PRECONNECTED]:
            Connection.objects.create(
                membership=membership, connector=connector,
                state=Connection.State.ENABLED, enabled_at=now,
            )  # fmt: skip
        _token, secret = api_token_create(membership=membership, name="load", actor=actor)
        browser = Client()
        browser.force_login(user)
        cookie = settings.SESSION_COOKIE_NAME
        users.append({"token": secret, "cookie": {cookie: browser.cookies[cookie].value}})
    return users, [c.pk for c in connectors]


def limit_check() -> tuple[int, int, str]:
    """(most connections in use by one member, the plan's limit, that member's email)."""
    from django.db.models import Count, Q

    from orgconnectors.connectors.models import Connection
    from orgconnectors.organizations.models import Membership, Organization

    organization = Organization.objects.get(slug=ORG)
    row = (
        Membership.objects.filter(organization=organization)
        .annotate(in_use=Count("connections", filter=Q(connections__state__in=Connection.IN_USE)))
        .order_by("-in_use")
        .values("in_use", "user__email")
        .first()
    )
    return row["in_use"], organization.max_enabled_connections, row["user__email"]


# The clients -------------------------------------------------------------------------------


async def one_client(base: str, user: dict, connectors: list[int], until: float, rng, out):
    import httpx

    api = {"Authorization": f"Bearer {user['token']}"}
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    async with httpx.AsyncClient(
        base_url=base, timeout=30, limits=httpx.Limits(max_connections=1)
    ) as client:
        while time.monotonic() < until:
            kind = rng.choices(kinds, weights)[0]
            if kind == "config":
                request = client.build_request("GET", CONFIG_PATH, headers=api)
            elif kind == "page":
                request = client.build_request("GET", PAGE_PATH, cookies=user["cookie"])
            else:
                method = rng.choice(("PUT", "PUT", "DELETE"))  # drifts to the limit
                kind = "enable" if method == "PUT" else "disable"
                path = f"/api/v1/orgs/{ORG}/connectors/{rng.choice(connectors)}/connection"
                request = client.build_request(method, path, headers=api)
            started = time.monotonic()
            try:
                response = await client.send(request)
                await response.aread()
                status = response.status_code
            except httpx.TransportError as error:
                status = type(error).__name__
            out.append((kind, status, time.monotonic() - started))


def client_process(base: str, users: list[dict], connectors: list[int], count: int, until: float):
    """`count` clients on one event loop until `until` (time.monotonic, shared by the processes
    on Linux: CLOCK_MONOTONIC is system-wide): every request as (kind, status, seconds)."""
    out: list = []
    rng = random.Random()

    async def run():
        await asyncio.gather(*(
            one_client(base, users[n], connectors, until, random.Random(rng.random()), out)
            for n in range(count)
        ))  # fmt: skip

    asyncio.run(run())
    return out


def drive(base: str, users: list[dict], connectors: list[int], args) -> tuple[list, float]:
    shares = [args.clients // args.processes] * args.processes
    shares[0] += args.clients - sum(shares)
    # Each process takes its own members, so that several clients of one member share a process.
    start = time.monotonic() + 2  # the processes start before the clock does
    until = start + args.seconds
    with ProcessPoolExecutor(args.processes) as pool:
        offset, futures = 0, []
        for share in shares:
            mine = [users[(offset + n) % len(users)] for n in range(share)]
            futures.append(pool.submit(client_process, base, mine, connectors, share, until))
            offset += share
        results = [row for future in futures for row in future.result()]
    return results, until - start


# The report --------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(results: list, seconds: float, args) -> None:
    print(
        f"{args.clients} clients ({args.processes} processes, one keep-alive connection each) "
        f"for {seconds:.0f} s against granian, 2 workers, DJANGO_DEBUG=0, DB pool, Redis; "
        f"{args.members} members of a Team org (limit 10), {CONNECTORS} connectors. "
        f"{os.cpu_count()} cores shared by the clients, the server, PostgreSQL and Redis "
        f"(and whatever else runs: load average {os.getloadavg()[0]:.1f} at the end)."
    )
    print(f"  {'kind':8s} {'requests':>9s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s}  statuses")
    kinds = ["config", "enable", "disable", "page"]
    for kind in [*kinds, "all"]:
        rows = [r for r in results if kind == "all" or r[0] == kind]
        if not rows:
            continue
        latencies = [r[2] * 1000 for r in rows]
        statuses = Counter(r[1] for r in rows)
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items(), key=str))
        print(
            f"  {kind:8s} {len(rows):9d} {len(rows) / seconds:8.0f} "
            f"{statistics.median(latencies):8.1f} {percentile(latencies, 0.99):8.1f}  {shown}"
        )
    errors = [r for r in results if not isinstance(r[1], int) or r[1] >= 500]
    expected = {"config": {200}, "page": {200}, "enable": {200, 409}, "disable": {200}}
    unexpected = Counter(
        (r[0], r[1])
        for r in results
        if isinstance(r[1], int) and r[1] < 500 and r[1] not in expected[r[0]]
    )
    limited = sum(1 for r in results if r[0] == "enable" and r[1] == 409)
    print(f"  errors (5xx or connection errors): {len(errors)}")
    print(f"  409 from the plan limit (expected): {limited}")
    print(
        "  other non-2xx: "
        + (", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(unexpected.items())) or "none")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--members", type=int, default=50)
    args = parser.parse_args()
    database_url, drop = throwaway_database(os.environ.get("DATABASE_URL", ""))
    port = free_port()
    try:
        with tempfile.TemporaryDirectory(prefix="oc-bench-load-") as var_dir:
            env = production_environment(var_dir, database_url, port)
            os.environ.clear()
            os.environ.update(env)
            users, connectors = prepare(args.members)
            server = subprocess.Popen(granian(port), env=env, cwd=str(ROOT), start_new_session=True)
            base = f"http://127.0.0.1:{port}"
            try:
                wait_until_up(base + CONFIG_PATH, users[0]["token"], server)
                results, seconds = drive(base, users, connectors, args)
            finally:
                stop(server)
            report(results, seconds, args)
            from django.db import connections

            most, limit, who = limit_check()
            connections.close_all()
            verdict = "within the limit" if most <= limit else "LIMIT EXCEEDED"
            print(
                f"  most connections in use by one member: {most} ({who}), limit {limit}: {verdict}"
            )
            return 0 if most <= limit else 1
    finally:
        drop()


if __name__ == "__main__":
    sys.exit(main())
