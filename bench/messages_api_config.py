"""Messages API configuration throughput and query count: prints figures, asserts nothing.

    ORGCONNECTORS_DEV=1 .venv/bin/python bench/messages_api_config.py

1. Throughput of GET /api/v1/orgs/{org}/messages-api-config for a member with 10 connections
   (5 OAuth with tokens, 5 without; tool policies as allowlists and denylists) whose connectors
   have no approved tool listing yet (today's shape: no `tools` pinned), against a trivial
   authenticated Django JSON view (the same bearer token checked, a one-line answer), served by
   the same server process (uvicorn, the project's ASGI app) in the same run, measured in
   alternating rounds. Target: at least 0.5x.
2. The same for a member with 10 such connections whose servers list 50 tools each, approved
   (as the health check approves a first listing), asked with beta mcp-client-2026-09-15: every
   toolset carries its 50 approved definitions, pinned. Target: at least 0.9x of (1).
3. Its database queries with 1 and with 10 connections (target: the same number).

The data lives in a database made for the run: on the PostgreSQL server of DATABASE_URL when
it names one (a new database beside it, dropped at the end), otherwise SQLite in a temporary
folder; or in BENCH_DATABASE_URL (migrated and filled: give it an empty one). The rate limit is
lifted for the run; REDIS_URL, if set, still holds its counter.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")

CONFIG_PATH = "/api/v1/orgs/bench/messages-api-config"
PINNED_PATH = CONFIG_PATH + "?beta=mcp-client-2026-09-15"
TOOLS_PER_SERVER = 50
TRIVIAL_PATH = "/bench/trivial/"

# Set in --serve mode once Django is set up: the project's URLs plus the baseline view.
urlpatterns: list = []


def _throwaway_postgres(url: str):
    """A new database on the server of `url`, for this run only: (its URL, a function that
    drops it), or None when `url` is not PostgreSQL."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        return None
    name = f"{parts.path.lstrip('/') or 'postgres'}_bench_messages_api"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))

    def run(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    run(f'DROP DATABASE IF EXISTS "{name}"')
    run(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")), lambda: run(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    )


def _environment(var_dir: str, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["ORGCONNECTORS_VAR_DIR"] = var_dir
    env["ORGCONNECTORS_DEV"] = env.get("ORGCONNECTORS_DEV") or "1"
    env["ORGCONNECTORS_CONFIG_RATE_LIMIT"] = "100000000/min"
    # Debug mode records every SQL query, which would skew the numbers.
    env["DJANGO_DEBUG"] = "0"
    env["LOG_LEVEL"] = "WARNING"  # one line per request would be measured too
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


# The server


def trivial(request):
    """The baseline: the same bearer token checked, then a one-line JSON answer."""
    from django.http import JsonResponse

    from orgconnectors.api.tokens import api_token_authenticate

    header = request.headers.get("Authorization", "")
    api_token = api_token_authenticate(header.removeprefix("Bearer ").strip())
    if api_token is None:
        return JsonResponse({"detail": "Send a valid API token."}, status=401)
    return JsonResponse({"ok": True, "user": api_token.user.email})


def serve(port: int) -> None:
    import django
    import uvicorn

    django.setup()
    from django.conf import settings
    from django.core.asgi import get_asgi_application
    from django.urls import include, path

    global urlpatterns
    urlpatterns = [path("bench/trivial/", trivial), path("", include("orgconnectors.urls"))]
    settings.ROOT_URLCONF = __name__
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it, a keep-alive request waits ~40 ms on delayed ACKs, which measures nothing.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(get_asgi_application(), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


# The data


def _tool(n: int) -> dict:
    """A tool as servers list them: a paragraph of description, a schema of a few fields."""
    return {
        "name": f"tool_{n:02d}",
        "title": f"Tool {n}",
        "description": f"Tool {n} of the bench server: looks up records by query and returns "
        "the matching ones with their fields, newest first. Use it when the user asks about "
        "records; pass a limit to keep the answer short.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look for."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                "fields": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["query"],
        },
        "annotations": {"readOnlyHint": n % 5 != 0},
    }


def _listed(connector, tools: int) -> None:
    """A health check that listed `tools` tools: the first listing, approved on first use."""
    from orgconnectors.connectors.tool_definitions import definition
    from orgconnectors.health.outcomes import Outcome, ProbeResult
    from orgconnectors.health.results import health_result_record

    listed = [definition(_tool(n)) for n in range(tools)]
    health_result_record(
        connector_id=connector.pk, result=ProbeResult(Outcome.HEALTHY, latency_ms=40, tools=listed)
    )


def _make(organization, email: str, count: int, actor, tools: int = 0) -> str:
    """A member with `count` connections (servers listing `tools` tools each, approved, when
    not 0); their API token."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from orgconnectors.api.tokens import api_token_create
    from orgconnectors.connectors.models import Connection, Connector, ToolOverride
    from orgconnectors.encryption import encrypt
    from orgconnectors.oauth.models import OAuthClient, OAuthCredential
    from orgconnectors.organizations.models import Membership

    user = get_user_model().objects.create_user(email=email, password=None)
    membership = Membership.objects.create(
        user=user, organization=organization, role=Membership.Role.MEMBER
    )
    now = timezone.now()
    for n in range(count):
        oauth = n % 2 == 0
        connector = Connector.objects.create(
            organization=organization,
            name=f"{email.split('@')[0]} connector {n}",
            url=f"https://mcp{n}.{email.split('@')[0]}.example.com/mcp",
            auth=Connector.Auth.OAUTH if oauth else Connector.Auth.NONE,
            # Listed servers: every tool allowed but one, so 49 of the 50 are pinned.
            tool_default=Connector.ToolDefault.BLOCK
            if n % 3 == 0 and not tools
            else Connector.ToolDefault.ALLOW,
            status=Connector.Status.HEALTHY,
        )
        ToolOverride.objects.create(connector=connector, tool_name="search", enabled=True)
        ToolOverride.objects.create(connector=connector, tool_name="delete", enabled=False)
        if tools:
            ToolOverride.objects.create(connector=connector, tool_name="tool_00", enabled=True)
            ToolOverride.objects.create(connector=connector, tool_name="tool_01", enabled=False)
            _listed(connector, tools)
        connection = Connection.objects.create(
            membership=membership, connector=connector, state=Connection.State.ENABLED,
            enabled_at=now,
        )  # fmt: skip
        if oauth:
            client = OAuthClient.objects.create(
                connector=connector,
                issuer=f"https://auth{n}.example.com",
                kind=OAuthClient.Kind.DYNAMIC,
                client_id="bench",
                authorization_endpoint=f"https://auth{n}.example.com/authorize",
                token_endpoint=f"https://auth{n}.example.com/token",
            )
            OAuthCredential.objects.create(
                connection=connection, client=client,
                access_token_encrypted=encrypt(f"access-token-{n}-" + "x" * 40),
                refresh_token_encrypted=encrypt(f"refresh-token-{n}"),
                obtained_at=now, expires_at=now + timedelta(hours=2),
                next_refresh_at=now + timedelta(hours=1),
            )  # fmt: skip
    _api_token, token = api_token_create(membership=membership, name="bench", actor=actor)
    return token


def prepare() -> tuple[str, str, str]:
    """Migrate and fill the database; the API tokens of the members with 10 and 1 connections,
    and of the member with 10 connections of 50 approved tools each."""
    import django

    django.setup()
    from django.core.management import call_command

    from orgconnectors.core.actor import Actor
    from orgconnectors.organizations.models import Organization, Plan

    call_command("migrate", verbosity=0, interactive=False)
    organization = Organization.objects.create(
        slug="bench", name="Bench", plan=Plan.objects.get(code="enterprise")
    )
    actor = Actor.system("bench")
    ten = _make(organization, "ten@bench.test", 10, actor)
    one = _make(organization, "one@bench.test", 1, actor)
    pinned = _make(organization, "pinned@bench.test", 10, actor, tools=TOOLS_PER_SERVER)
    return ten, one, pinned


def query_counts(tokens: dict[int, str]) -> dict[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for connections, token in tokens.items():
        client = Client(headers={"Authorization": f"Bearer {token}"})
        assert client.get(CONFIG_PATH).status_code == 200  # last_used_at written: not counted
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CONFIG_PATH)
        assert response.status_code == 200, response.content
        assert len(response.json()["mcp_servers"]) == connections, response.content
        counts[connections] = len(queries)
    return counts


# The measurement


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base_url: str, token: str, process) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the bench server exited; run it by hand to see why")
        try:
            if httpx.get(base_url + TRIVIAL_PATH, headers={"Authorization": f"Bearer {token}"}):
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the bench server did not start within 60 s")


def _cpu_seconds(pid: int) -> float | None:
    """CPU time the server process used so far (user + system), where /proc tells it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rate(client, path: str, seconds: float, pid: int) -> tuple[float, float | None]:
    """(requests per second of wall time, requests per second of the server's CPU time)."""
    done, cpu_before, start = 0, _cpu_seconds(pid), time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.text[:300]}")
        done += 1
    cpu_after = _cpu_seconds(pid)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return done / elapsed, (done / cpu if cpu else None)


def _pinned_answer(base_url: str, token: str) -> tuple[int, int]:
    """(pinned tools in the answer, its size in bytes): what the pinned figure measures."""
    import httpx

    response = httpx.get(base_url + PINNED_PATH, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    tools = sum(len(toolset.get("tools", [])) for toolset in response.json()["tools"])
    return tools, len(response.content)


def measure(base_url: str, tokens: dict[str, str], seconds: float, rounds: int, pid: int) -> dict:
    import httpx

    # (name, path, the token of the member asking)
    endpoints = (
        ("trivial", TRIVIAL_PATH, tokens["ten"]),
        ("config", CONFIG_PATH, tokens["ten"]),
        ("pinned", PINNED_PATH, tokens["pinned"]),
    )
    wall: dict[str, list[float]] = {name: [] for name, _path, _token in endpoints}
    cpu: dict[str, list[float]] = {name: [] for name, _path, _token in endpoints}
    clients = {
        name: httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
        for name, _path, token in endpoints
    }
    with clients["trivial"], clients["config"], clients["pinned"]:
        for name, path, _token in endpoints:  # warm up each
            _rate(clients[name], path, 0.5, pid)
        for _ in range(rounds):
            for name, path, _token in endpoints:
                by_wall, by_cpu = _rate(clients[name], path, seconds, pid)
                wall[name].append(by_wall)
                if by_cpu:
                    cpu[name].append(by_cpu)
    median = statistics.median
    return {
        "wall": {name: median(values) for name, values in wall.items()},
        "cpu": {name: median(values) for name, values in cpu.items() if values},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    database_url, drop = os.environ.get("BENCH_DATABASE_URL"), None
    throwaway = None if database_url else _throwaway_postgres(os.environ.get("DATABASE_URL", ""))
    if throwaway:
        database_url, drop = throwaway
    try:
        run(args, database_url)
    finally:
        if drop:
            drop()


def run(args, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="oc-bench-msgapi-") as var_dir:
        env = _environment(var_dir, database_url)
        os.environ.clear()
        os.environ.update(env)
        ten, one, pinned = prepare()
        counts = query_counts({1: one, 10: ten})
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port)], env=env, cwd=str(ROOT)
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_up(base_url, ten, server)
            pinned_tools, pinned_bytes = _pinned_answer(base_url, pinned)
            tokens = {"ten": ten, "pinned": pinned}
            rates = measure(base_url, tokens, args.seconds, args.rounds, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("messages-api-config, a member with 10 connections (5 OAuth), one server process,")
    print("one client asking one request after another (medians of the rounds):")
    print("                                          per second  per CPU second of the server")
    rows = (
        ("trivial authenticated JSON view", "trivial"),
        ("messages-api-config, unpinned (today)", "config"),
        (f"messages-api-config, {TOOLS_PER_SERVER} pinned/server", "pinned"),
    )
    for label, name in rows:
        by_cpu = rates["cpu"].get(name)
        shown = f"{by_cpu:10.0f}" if by_cpu else "         -"
        print(f"  {label:40s} {rates['wall'][name]:8.0f}  {shown}")
    print(f"  (the pinned answer: {pinned_tools} tools, {pinned_bytes / 1000:.0f} KB)")

    def ratio(name: str, base: str, target: float, what: str) -> None:
        wall_ratio = rates["wall"][name] / rates["wall"][base]
        print(f"  {what}: by wall time {wall_ratio:.2f}x", end="")
        found = wall_ratio
        if name in rates["cpu"] and base in rates["cpu"]:
            # The server's own CPU time does not depend on what else the machine is running.
            found = rates["cpu"][name] / rates["cpu"][base]
            print(f", by the server's CPU time {found:.2f}x", end="")
        print(f" (target >= {target}x): {'met' if found >= target else 'NOT met'}")

    ratio("config", "trivial", 0.5, "unpinned / trivial view")
    ratio("pinned", "config", 0.9, "pinned / unpinned")
    print(f"queries per answer: {counts[1]} with 1 connection, {counts[10]} with 10 connections")
    print(f"  constant in connections: {'yes' if counts[1] == counts[10] else 'NO'}")


if __name__ == "__main__":
    main()
