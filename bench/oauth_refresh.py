"""Refreshing members' OAuth tokens at scale: prints figures and ratios, asserts nothing.

    ORGCONNECTORS_DEV=1 ORGCONNECTORS_ALLOW_LOOPBACK=1 .venv/bin/python bench/oauth_refresh.py [N]

N credentials (default 10,000) are due at once, in a dedicated PostgreSQL database
(oc_bench_oauth on the server of DATABASE_URL, created afresh each run from a migrated template,
oc_bench_oauth_template; BENCH_DATABASE names another). A minimal token endpoint runs under
uvicorn in a process of its own, rotates every refresh token and counts how often each one is
presented. Two worker processes then run the refresh sweep (`oauth_refresh_sweep`, each due
credential refreshed by `credential_refresh`, as the Celery tasks do) against the same database
until nothing is due. Printed: refreshes seen by the server, duplicates (a refresh token
presented twice: must be 0), credentials left unrefreshed, and the time per refresh (wall time
of one worker divided by what it refreshed) against a bare httpx token request to the same
server in the same run (a new client per request, as token_request does, and a pooled one).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")

BENCH_DB = "oc_bench_oauth"
ORGANIZATIONS = 10
CONNECTORS_PER_ORG = 10
BARE_REQUESTS = 500
HOST = "127.0.0.1"


def say(message: str) -> None:
    print(message, flush=True)


# The token endpoint ------------------------------------------------------------------------------


def token_server_app():
    """A raw ASGI token endpoint: rotates refresh tokens, counts each one presented."""
    from urllib.parse import parse_qsl

    presented: dict[str, int] = {}
    counter = {"issued": 0}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        if scope["path"] == "/stats":
            body = json.dumps({
                "refreshes": sum(presented.values()),
                "distinct": len(presented),
                "duplicates": sum(count - 1 for count in presented.values() if count > 1),
            }).encode()  # fmt: skip
            status = 200
        else:
            chunks, more = [], True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            form = dict(parse_qsl(b"".join(chunks).decode()))
            refresh = form.get("refresh_token", "")
            if refresh:
                presented[refresh] = presented.get(refresh, 0) + 1
            counter["issued"] += 1
            body = json.dumps({
                "access_token": f"at-{counter['issued']}",
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": f"rt-rotated-{counter['issued']}",
            }).encode()  # fmt: skip
            status = 200
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def run_token_server(port: int) -> None:
    import uvicorn

    uvicorn.run(token_server_app(), host=HOST, port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for(url: str) -> None:
    import httpx

    for _ in range(100):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit(f"The bench token server at {url} did not start.")


# The database ------------------------------------------------------------------------------------


def bench_url(name: str) -> str:
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/orgconnectors"
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("bench/oauth_refresh.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    return urlunsplit(parts._replace(path="/" + name))


def fresh_database(name: str) -> str:
    """A new, migrated database: copied from a template migrated once."""
    import psycopg

    template = f"{name}_template"
    admin = bench_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        has_template = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
    if not has_template:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{template}"')
        say(f"Migrating the template database {template} (once)...")
        env = {**os.environ, "DATABASE_URL": bench_url(template)}
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"],
            env=env,
            check=True,
        )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return bench_url(name)


def seed(count: int, token_endpoint: str) -> None:
    """`count` OAuth connections, each with a credential due now, spread over 10 organizations."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from orgconnectors.connectors.models import Connection, Connector
    from orgconnectors.encryption import encrypt
    from orgconnectors.oauth.models import OAuthClient, OAuthCredential
    from orgconnectors.organizations.models import Membership, Organization, Plan

    plan = Plan.objects.get(code="enterprise")
    members_per_org = -(-count // (ORGANIZATIONS * CONNECTORS_PER_ORG))
    now = timezone.now()
    organizations = Organization.objects.bulk_create([
        Organization(slug=f"bench-{o}", name=f"Bench {o}", plan=plan) for o in range(ORGANIZATIONS)
    ])  # fmt: skip
    users = get_user_model().objects.bulk_create([
        get_user_model()(email=f"m{o}-{m}@bench.example", password="!")
        for o in range(ORGANIZATIONS)
        for m in range(members_per_org)
    ])  # fmt: skip
    memberships = Membership.objects.bulk_create([
        Membership(organization=organizations[i // members_per_org], user=user)
        for i, user in enumerate(users)
    ])  # fmt: skip
    connectors = Connector.objects.bulk_create([
        Connector(
            organization=org,
            name=f"Server {c}",
            url=f"http://{HOST}:1/mcp/{org.slug}/{c}",
            auth=Connector.Auth.OAUTH,
        )
        for org in organizations
        for c in range(CONNECTORS_PER_ORG)
    ])  # fmt: skip
    clients = OAuthClient.objects.bulk_create([
        OAuthClient(
            connector=connector,
            issuer=f"http://{HOST}",
            kind=OAuthClient.Kind.DYNAMIC,
            client_id=f"client-{connector.pk}",
            authorization_endpoint=f"{token_endpoint}/authorize",
            token_endpoint=token_endpoint,
        )
        for connector in connectors
    ])  # fmt: skip
    client_of = {client.connector_id: client for client in clients}
    by_org = {
        org.pk: [c for c in connectors if c.organization_id == org.pk] for org in organizations
    }
    pairs = [
        (membership, connector)
        for membership in memberships
        for connector in by_org[membership.organization_id]
    ][:count]
    connections = Connection.objects.bulk_create([
        Connection(membership=m, connector=c, state=Connection.State.ENABLED, enabled_at=now)
        for m, c in pairs
    ])  # fmt: skip
    OAuthCredential.objects.bulk_create(
        [
            OAuthCredential(
                connection=connection,
                client=client_of[connection.connector_id],
                access_token_encrypted=encrypt(f"at-seed-{connection.pk}"),
                refresh_token_encrypted=encrypt(f"rt-seed-{connection.pk}"),
                obtained_at=now - timedelta(minutes=50),
                expires_at=now + timedelta(minutes=10),
                next_refresh_at=now - timedelta(seconds=1),
            )
            for connection in connections
        ],
        batch_size=2000,
    )


# The workers -------------------------------------------------------------------------------------


def worker(start_at: float) -> None:
    """One OS process sweeping until nothing is due; prints its figures as JSON."""
    import logging

    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would be timed too
    from orgconnectors.oauth.refresh import credential_refresh, oauth_refresh_sweep
    from orgconnectors.oauth.refresh_outcomes import Outcome

    outcomes: dict[str, int] = {}

    def refresh_now(*, credential_id: int, generation: int) -> None:
        outcome = credential_refresh(credential_id=credential_id, generation=generation)
        outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1

    while time.time() < start_at:
        time.sleep(0.005)
    started = time.perf_counter()
    while oauth_refresh_sweep(enqueue=refresh_now):
        pass
    elapsed = time.perf_counter() - started
    refreshed = outcomes.get(Outcome.REFRESHED.value, 0)
    print(json.dumps({"elapsed": elapsed, "refreshed": refreshed, "outcomes": outcomes}))


def bare_requests(token_endpoint: str) -> tuple[float, float]:
    """Seconds per bare httpx token request: a new client each time, and one pooled client."""
    import httpx

    form = {"grant_type": "refresh_token", "client_id": "bare", "refresh_token": "bare"}
    started = time.perf_counter()
    for _ in range(BARE_REQUESTS):
        with httpx.Client() as http:
            http.post(token_endpoint, data=form).raise_for_status()
    fresh = (time.perf_counter() - started) / BARE_REQUESTS
    with httpx.Client() as http:
        started = time.perf_counter()
        for _ in range(BARE_REQUESTS):
            http.post(token_endpoint, data=form).raise_for_status()
        pooled = (time.perf_counter() - started) / BARE_REQUESTS
    return fresh, pooled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="credentials due at once")
    parser.add_argument("--token-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.token_server:
        return run_token_server(args.token_server)
    if args.worker:
        return worker(args.worker)

    os.environ.setdefault("ORGCONNECTORS_DEV", "1")
    os.environ["ORGCONNECTORS_ALLOW_LOOPBACK"] = "1"  # the token endpoint is on 127.0.0.1
    os.environ["DATABASE_URL"] = fresh_database(os.environ.get("BENCH_DATABASE", BENCH_DB))
    port = free_port()
    token_endpoint = f"http://{HOST}:{port}/token"
    server = subprocess.Popen([sys.executable, __file__, "--token-server", str(port)])
    try:
        wait_for(f"http://{HOST}:{port}/stats")
        import logging

        import django

        django.setup()
        logging.getLogger("httpx").setLevel(logging.WARNING)
        say(f"Seeding {args.n:,} credentials due now...")
        seed(args.n, token_endpoint)
        import httpx

        before = httpx.get(f"http://{HOST}:{port}/stats").json()
        start_at = time.time() + 3  # both workers start sweeping at the same moment
        workers = [
            subprocess.Popen(
                [sys.executable, __file__, "--worker", str(start_at)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [json.loads(w.communicate()[0].strip().splitlines()[-1]) for w in workers]
        wall = max(r["elapsed"] for r in results)
        stats = httpx.get(f"http://{HOST}:{port}/stats").json()
        fresh, pooled = bare_requests(token_endpoint)
    finally:
        server.terminate()
        server.wait(timeout=10)

    from orgconnectors.oauth.models import OAuthCredential

    refreshes = stats["refreshes"] - before["refreshes"]
    left = OAuthCredential.objects.filter(last_refreshed_at__isnull=True).count()
    per_refresh = sum(r["elapsed"] for r in results) / max(sum(r["refreshed"] for r in results), 1)
    say(f"\n{args.n:,} credentials due at once, two worker processes (2-core machine):")
    for number, result in enumerate(results, 1):
        say(f"  worker {number}: {result['outcomes']} in {result['elapsed']:.1f} s")
    say(f"  refreshes seen by the token server: {refreshes:,} for {stats['distinct']:,} tokens")
    say(f"  duplicate refreshes (a refresh token presented twice): {stats['duplicates']}")
    say(f"  credentials never refreshed: {left}")
    say(f"  wall time {wall:.1f} s: {args.n / wall:,.0f} refreshes/s")
    say(f"  time per refresh in one worker: {per_refresh * 1000:.2f} ms")
    say(f"  bare httpx token request, new client each: {fresh * 1000:.2f} ms")
    say(f"  bare httpx token request, pooled client:   {pooled * 1000:.2f} ms")
    say(f"  ratio refresh / bare (new client): {per_refresh / fresh:.2f}x")
    say(f"  ratio refresh / bare (pooled):     {per_refresh / pooled:.2f}x")


if __name__ == "__main__":
    main()
