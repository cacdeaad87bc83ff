"""The gateway's cost: the same SDK client calling a tool on the same SDK server directly and
through the gateway, side by side in one run. Prints figures, asserts nothing.

    DATABASE_URL=postgres://... ORGCONNECTORS_DEV=1 ORGCONNECTORS_ALLOW_LOOPBACK=1 \\
        .venv/bin/python bench/gateway.py

The upstream is an SDK MCPServer (Streamable HTTP, one `echo` tool) under uvicorn in a process
of its own. The gateway is the project's ASGI app in one granian worker process, as `make
serve` runs it (asginl, DJANGO_DEBUG=0, the database pool), with a member connected to that
server and an API token with the `mcp` scope. The client (mcp SDK `Client`, mode auto, in this
process) opens one session to each and calls `echo` over it:

- latency: calls one after another, alternating rounds direct / gateway; p50 and p99 of each,
  and the gateway's added p50 and p99 (target: p50 added at most 5 ms);
- throughput: calls per second with 1 and with 50 calls in flight at once on the session
  (target at 50: the gateway at least 0.5x direct);
- the organization endpoint: `tools/list` of /mcp/{org} for a second member connected to 10
  connectors of 20 approved tools each, against `tools/list` of one of those connectors'
  endpoints, alternating; p50 of each, measured twice: as the gateway serves it (one raw
  JSON-RPC POST per listing, the body read, target: the organization's under 2x the one
  connector's, served from the approved listings, no upstream fetch), and as the SDK's client
  sees it (which parses and indexes every tool it gets: 10x the tools cost it 10x the work).

The data lives in a database made for the run beside DATABASE_URL's, dropped at the end.
"""

import argparse
import asyncio
import contextlib
import os
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
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_upstream(port: int) -> None:
    import uvicorn
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings

    server = MCPServer("bench-upstream", version="1.0")

    @server.tool()
    def echo(text: str) -> str:
        """Say it back."""
        return text

    app = server.streamable_http_app(
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _throwaway_postgres(url: str):
    import psycopg

    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (a database is made beside it)")
    name = f"{parts.path.lstrip('/') or 'postgres'}_bench_gateway"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))

    def run(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")), lambda: run(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    )


ORG_CONNECTORS, ORG_TOOLS = 10, 20


def prepare(upstream_url: str) -> tuple[str, int, str, int]:
    """Migrate, then a member connected to the upstream with an API token, and a second member
    connected to ORG_CONNECTORS connectors of ORG_TOOLS approved tools each, with a token of
    theirs; (token, id, second token, id of one of the second member's connectors)."""
    import django

    django.setup()
    from django.core.management import call_command

    from orgconnectors.api.tokens import api_token_create
    from orgconnectors.connectors.models import Connection, Connector
    from orgconnectors.core.actor import Actor
    from orgconnectors.organizations.models import Membership, Organization, Plan

    call_command("migrate", verbosity=0)
    from orgconnectors.connectors.tool_definitions import definition

    echo = definition({
        "name": "echo",
        "description": "Say it back.",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    })  # fmt: skip
    from django.contrib.auth import get_user_model

    organization = Organization.objects.create(
        slug="bench", name="Bench", plan=Plan.objects.get(code="enterprise")
    )
    user = get_user_model().objects.create_user(email="member@bench.test", password="x-bench-1")
    membership = Membership.objects.create(
        user=user, organization=organization, role=Membership.Role.MEMBER
    )
    connector = Connector.objects.create(
        organization=organization,
        name="Echo",
        url=upstream_url,
        transport=Connector.Transport.STREAMABLE_HTTP,
        detected_transport=Connector.Transport.STREAMABLE_HTTP,
        discovered_tools=[echo],
        approved_tools=[echo],  # approved: members get it
        tool_listing_version=1,
    )
    Connection.objects.create(
        membership=membership, connector=connector, state=Connection.State.ENABLED
    )
    _token, secret = api_token_create(
        membership=membership, name="bench", actor=Actor.system("bench"), scopes=["mcp"]
    )
    wide_user = get_user_model().objects.create_user(email="wide@bench.test", password="x-bench-1")
    wide = Membership.objects.create(
        user=wide_user, organization=organization, role=Membership.Role.MEMBER
    )
    listed = [
        definition(
            {
                "name": f"tool_{n:02d}",
                "description": f"Tool number {n} of a connector with many tools.",
                "inputSchema": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}, "limit": {"type": "integer"}},
                    "required": ["text"],
                },
            }
        )  # fmt: skip
        for n in range(ORG_TOOLS)
    ]
    wide_connectors = []
    for n in range(ORG_CONNECTORS):
        wide_connector = Connector.objects.create(
            organization=organization,
            name=f"Wide {n:02d}",
            url=f"{upstream_url}?wide={n}",  # never fetched: listings come from the approved
            transport=Connector.Transport.STREAMABLE_HTTP,
            detected_transport=Connector.Transport.STREAMABLE_HTTP,
            status=Connector.Status.HEALTHY,
            discovered_tools=listed,
            approved_tools=listed,
            tool_listing_version=1,
        )
        Connection.objects.create(
            membership=wide, connector=wide_connector, state=Connection.State.ENABLED
        )
        wide_connectors.append(wide_connector)
    _token, wide_secret = api_token_create(
        membership=wide, name="bench wide", actor=Actor.system("bench"), scopes=["mcp"]
    )
    return secret, connector.pk, wide_secret, wide_connectors[0].pk


def _wait_for_port(port: int, process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited; run it by hand to see why")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("a server did not start within 60 s")


def _serving_pid(process) -> int:
    """granian serves from a worker process under its main one: that worker's pid."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    found = children.read_text().split() if children.exists() else []
    return int(found[0]) if found else process.pid


def _stop(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# The client side


async def _session(stack, url: str, token: str | None, *, warm_call: bool = True):
    import httpx2
    import mcp_types as types
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx2.Limits(max_connections=200, max_keepalive_connections=200)
    http = await stack.enter_async_context(
        httpx2.AsyncClient(headers=headers, timeout=60, limits=limits)
    )
    client = Client(
        streamable_http_client(url, http_client=http),
        mode="auto",
        cache=None,
        client_info=types.Implementation(name="bench-client", version="1.0"),
    )
    await stack.enter_async_context(client)
    if warm_call:
        result = await client.call_tool("echo", {"text": "warm"})
        assert not result.is_error, result
    else:
        await client.list_tools()
    return client


LIST_BODY = b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}'


async def _raw_listing_latencies(http, url: str, count: int, expected: int) -> list[float]:
    """tools/list as one JSON-RPC POST (2025-06-18, stateless: no session needed), timed to
    the body's last byte: the gateway's serving time, without a client's parsing."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    out = []
    for _ in range(count):
        started = time.perf_counter()
        answer = await http.post(url, content=LIST_BODY, headers=headers)
        body = answer.content
        out.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (answer.status_code, body[:200])
    assert body.count(b'"inputSchema"') == expected, body[:300]
    return out


async def _listing_latencies(client, count: int, expected: int) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        listed = await client.list_tools()
        out.append((time.perf_counter() - started) * 1000)
        assert len(listed.tools) == expected, len(listed.tools)
    return out


async def _latencies(client, count: int) -> list[float]:
    out = []
    for i in range(count):
        started = time.perf_counter()
        result = await client.call_tool("echo", {"text": f"call {i}"})
        out.append((time.perf_counter() - started) * 1000)
        assert not result.is_error
    return out


async def _throughput(client, concurrency: int, seconds: float) -> float:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            result = await client.call_tool("echo", {"text": "x"})
            assert not result.is_error
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(
    direct_url: str, gateway_url: str, token: str, args, pids: dict, listings: dict
) -> dict:
    async with contextlib.AsyncExitStack() as stack:
        sides = {
            "direct": await _session(stack, direct_url, None),
            "gateway": await _session(stack, gateway_url, token),
        }
        listing_sides = {
            "one": await _session(stack, listings["one"], listings["token"], warm_call=False),
            "org": await _session(stack, listings["org"], listings["token"], warm_call=False),
        }
        import httpx2

        raw_http = await stack.enter_async_context(
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {listings['token']}"}, timeout=60)
        )
        expected = {"one": ORG_TOOLS, "org": ORG_TOOLS * ORG_CONNECTORS}
        listing = {"one": [], "org": []}
        raw = {"one": [], "org": []}
        for _ in range(args.rounds):
            for side, client in listing_sides.items():
                raw[side] += await _raw_listing_latencies(
                    raw_http, listings[side], args.calls, expected[side]
                )
                listing[side] += await _listing_latencies(client, args.calls, expected[side])
        latency = {"direct": [], "gateway": []}
        rates = {(side, c): [] for side in sides for c in (1, 50)}
        cpu = {"gateway": [0.0, 0], "upstream": [0.0, 0]}
        for _ in range(args.rounds):
            for side, client in sides.items():
                latency[side] += await _latencies(client, args.calls)
            for concurrency in (1, 50):
                for side, client in sides.items():
                    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
                    rate = await _throughput(client, concurrency, args.seconds)
                    rates[(side, concurrency)].append(rate)
                    calls = rate * args.seconds
                    if side == "gateway":
                        for name, pid in pids.items():
                            cpu[name][0] += _cpu_seconds(pid) - before[name]
                            cpu[name][1] += calls
    return {
        "p50": {s: _percentile(v, 50) for s, v in latency.items()},
        "p99": {s: _percentile(v, 99) for s, v in latency.items()},
        "rate": {k: statistics.median(v) for k, v in rates.items()},
        "cpu_ms": {name: 1000 * spent / max(calls, 1) for name, (spent, calls) in cpu.items()},
        "listing_p50": {s: _percentile(v, 50) for s, v in listing.items()},
        "raw_p50": {s: _percentile(v, 50) for s, v in raw.items()},
        "raw_p99": {s: _percentile(v, 99) for s, v in raw.items()},
        "listing_p99": {s: _percentile(v, 99) for s, v in listing.items()},
    }


def report(figures: dict, args) -> None:
    p50, p99, rate = figures["p50"], figures["p99"], figures["rate"]
    print(
        f"tools/call `echo` on an SDK server, the same SDK client directly and through the "
        f"gateway (one granian worker), {args.rounds} alternating rounds, {os.cpu_count()} cores:"
    )
    print(f"  {'':28s} {'direct':>10s} {'gateway':>10s} {'added / ratio':>14s}")
    print(f"  {'latency p50 (ms)':28s} {p50['direct']:10.2f} {p50['gateway']:10.2f} "
          f"{p50['gateway'] - p50['direct']:+14.2f}")  # fmt: skip
    print(f"  {'latency p99 (ms)':28s} {p99['direct']:10.2f} {p99['gateway']:10.2f} "
          f"{p99['gateway'] - p99['direct']:+14.2f}")  # fmt: skip
    for concurrency in (1, 50):
        d, g = rate[("direct", concurrency)], rate[("gateway", concurrency)]
        label = f"calls/s, {concurrency} in flight"
        print(f"  {label:28s} {d:10.0f} {g:10.0f} {g / d:13.2f}x")
    cpu = figures["cpu_ms"]
    print(f"  CPU per call through the gateway: gateway process {cpu['gateway']:.2f} ms, "
          f"upstream server {cpu['upstream']:.2f} ms")  # fmt: skip
    added = p50["gateway"] - p50["direct"]
    print(f"  p50 added {added:.2f} ms (target <= 5 ms): {'met' if added <= 5 else 'NOT met'}")
    ratio = rate[("gateway", 50)] / rate[("direct", 50)]
    verdict = "met" if ratio >= 0.5 else "NOT met"
    print(f"  throughput at 50 in flight {ratio:.2f}x direct (target >= 0.5x): {verdict}")
    print(
        f"tools/list through the gateway: one connector ({ORG_TOOLS} tools) and the organization "
        f"endpoint ({ORG_CONNECTORS} connectors x {ORG_TOOLS} tools), {args.rounds} rounds:"
    )
    print(f"  {'':34s} {'one':>10s} {'org':>10s} {'ratio':>10s}")
    rows = [
        ("served, raw POST, p50 (ms)", figures["raw_p50"]),
        ("served, raw POST, p99 (ms)", figures["raw_p99"]),
        ("SDK client, p50 (ms)", figures["listing_p50"]),
        ("SDK client, p99 (ms)", figures["listing_p99"]),
    ]
    for label, values in rows:
        print(f"  {label:34s} {values['one']:10.2f} {values['org']:10.2f} "
              f"{values['org'] / values['one']:9.2f}x")  # fmt: skip
    p50 = figures["raw_p50"]
    ratio = p50["org"] / p50["one"]
    verdict = "met" if ratio < 2 else "NOT met"
    print(f"  organization listing p50 {ratio:.2f}x one connector's (target < 2x): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="sequential calls per round")
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--upstream", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        serve_upstream(args.upstream)
        return
    database_url, drop = _throwaway_postgres(os.environ.get("DATABASE_URL", ""))
    processes = []
    try:
        with tempfile.TemporaryDirectory(prefix="oc-bench-gateway-") as var_dir:
            env = dict(os.environ)
            env.update({
                "DATABASE_URL": database_url,
                "ORGCONNECTORS_VAR_DIR": var_dir,
                "ORGCONNECTORS_DEV": env.get("ORGCONNECTORS_DEV") or "1",
                "ORGCONNECTORS_ALLOW_LOOPBACK": "1",
                "DJANGO_DEBUG": "0",
                "LOG_LEVEL": "WARNING",
                "ORGCONNECTORS_DB_POOL": "1",
            })  # fmt: skip
            os.environ.update(env)
            upstream_port, gateway_port = _free_port(), _free_port()
            upstream = subprocess.Popen(
                [sys.executable, __file__, "--upstream", str(upstream_port)],
                env=env, cwd=str(ROOT), start_new_session=True,
            )  # fmt: skip
            processes.append(upstream)
            _wait_for_port(upstream_port, upstream)
            direct_url = f"http://127.0.0.1:{upstream_port}/mcp"
            token, connector_id, wide_token, wide_connector_id = prepare(direct_url)
            command = os.environ.get("BENCH_GATEWAY_COMMAND")
            gateway = subprocess.Popen(
                command.replace("PORT", str(gateway_port)).split() if command else
                [str(BIN / "granian"), "--interface", "asginl", "--workers", "1",
                 "--host", "127.0.0.1", "--port", str(gateway_port), "--no-ws",
                 "--log-level", "warning", "--no-access-log", "orgconnectors.asgi:application"],
                env=env, cwd=str(ROOT), start_new_session=True,
            )  # fmt: skip
            processes.append(gateway)
            _wait_for_port(gateway_port, gateway)
            gateway_url = f"http://127.0.0.1:{gateway_port}/mcp/bench/{connector_id}"
            pids = {"gateway": _serving_pid(gateway), "upstream": upstream.pid}
            listings = {
                "token": wide_token,
                "one": f"http://127.0.0.1:{gateway_port}/mcp/bench/{wide_connector_id}",
                "org": f"http://127.0.0.1:{gateway_port}/mcp/bench",
            }
            figures = asyncio.run(measure(direct_url, gateway_url, token, args, pids, listings))
            report(figures, args)
    finally:
        for process in processes:
            _stop(process)
        from django.db import connections

        connections.close_all()
        drop()


if __name__ == "__main__":
    main()
