"""Health check throughput: prints ratios, asserts nothing.

    ORGCONNECTORS_DEV=1 ORGCONNECTORS_ALLOW_LOOPBACK=1 .venv/bin/python bench/health_probe.py

1. The probe engine (SDK client, one pooled client, egress guard) against a minimal raw probe
   (initialize, initialized, tools/list) on the same SDK server, in the same run, at the same
   concurrency, over httpx and over httpx2 (httpx's pool slows down under concurrency; the
   ratio is taken against the faster). Target: the engine reaches at least 0.8x.
2. 1,000 connectors on servers that answer each request after 100 ms, checked by one worker
   process (one runner). Target: all of them within 10 s; printed with the ratio to doing the
   same checks one after another.

The servers run in their own processes, so their CPU time is not counted against the probes.
"""

import argparse
import asyncio
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgconnectors.settings")


def _delayed(app, seconds: float):
    async def middleware(scope, receive, send):
        if scope["type"] == "http" and seconds:
            await asyncio.sleep(seconds)
        return await app(scope, receive, send)

    return middleware


def _serve(queue, delay: float) -> None:
    """A process running one SDK MCP server (stateless, JSON answers) on 127.0.0.1."""
    import logging

    import uvicorn
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("bench", version="1.0")

    @server.tool()
    def search(query: str) -> str:
        """Search."""
        return query

    app = _delayed(server.streamable_http_app(stateless_http=True, json_response=True), delay)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without it, a keep-alive request waits ~40 ms on delayed ACKs, which measures nothing.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    queue.put(f"http://127.0.0.1:{sock.getsockname()[1]}/mcp")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    # The SDK server logs a line per request at INFO; writing them would slow the server.
    logging.disable(logging.INFO)
    server.run(sockets=[sock])


def start_servers(count: int, delay: float) -> tuple[list[str], list]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=_serve, args=(queue, delay), daemon=True) for _ in range(count)
    ]
    for process in processes:
        process.start()
    urls = [queue.get(timeout=60) for _ in processes]
    time.sleep(0.5)  # let uvicorn finish starting after the socket is announced
    return urls, processes


async def raw_probe(http, url: str) -> None:
    """The least a client can do: initialize, initialized, tools/list, JSON answers only."""
    headers = {"Accept": "application/json, text/event-stream"}
    init = await http.post(url, headers=headers, json={
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "raw", "version": "0"}},
    })  # fmt: skip
    version = init.json()["result"]["protocolVersion"]
    headers["MCP-Protocol-Version"] = version
    session = init.headers.get("mcp-session-id")
    if session:
        headers["Mcp-Session-Id"] = session
    await http.post(
        url, headers=headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
    )
    tools = await http.post(
        url, headers=headers, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    )
    assert tools.json()["result"]["tools"], tools.text


async def raw_throughput(library: str, url: str, probes: int, concurrency: int) -> float:
    """Probes per second of `raw_probe` over one pooled client of `library` (httpx or httpx2)."""
    import importlib

    hx = importlib.import_module(library)
    limits = hx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with hx.AsyncClient(limits=limits, timeout=10) as http:
        slots = asyncio.Semaphore(concurrency)

        async def one():
            async with slots:
                await raw_probe(http, url)

        await asyncio.gather(*(one() for _ in range(concurrency)))  # warm the pool
        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(probes)))
        return probes / (time.monotonic() - started)


def engine_throughput(runner, url: str, probes: int) -> float:
    from orgconnectors.health.probe import ProbeTarget

    runner.probe_many([ProbeTarget(url)] * runner.concurrency)  # warm the pool
    started = time.monotonic()
    results = runner.probe_many([ProbeTarget(url)] * probes)
    elapsed = time.monotonic() - started
    assert all(r.outcome == "healthy" for r in results), results[0]
    return probes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20, help="for the comparison")
    parser.add_argument("--connectors", type=int, default=1000)
    parser.add_argument(
        "--fleet-concurrency",
        type=int,
        help="for the 1,000 connectors (default: ORGCONNECTORS_PROBE_CONCURRENCY, as a worker)",
    )
    args = parser.parse_args()

    import logging

    import django

    django.setup()
    # One log line per request would be measured along with the probes.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.conf import settings

    from orgconnectors.health.pool import ProbeRunner, config_from_settings
    from orgconnectors.health.probe import ProbeTarget

    config = config_from_settings()
    fleet_concurrency = args.fleet_concurrency or settings.ORGCONNECTORS_PROBE_CONCURRENCY
    (url,), processes = start_servers(1, 0.0)
    for concurrency in (1, args.concurrency):
        runner = ProbeRunner(config=config, concurrency=concurrency)
        engine = engine_throughput(runner, url, args.probes)
        runner.close()
        raw = {
            library: asyncio.run(raw_throughput(library, url, args.probes, concurrency))
            for library in ("httpx", "httpx2")
        }
        best = max(raw.values())
        print(f"1. concurrency {concurrency}: engine {engine:.0f} probes/s; raw probe "
              f"{raw['httpx']:.0f}/s over httpx, {raw['httpx2']:.0f}/s over httpx2: "
              f"{engine / best:.2f}x the faster raw probe (target >= 0.8x)")  # fmt: skip
    for process in processes:
        process.kill()

    urls, processes = start_servers(2, 0.1)
    runner = ProbeRunner(config=config, concurrency=fleet_concurrency)
    one = runner.probe_many([ProbeTarget(urls[0])] * 5)
    sequential = args.connectors * min(r.latency_ms for r in one) / 1000
    targets = [ProbeTarget(f"{urls[i % 2]}?c={i}") for i in range(args.connectors)]
    started, cpu = time.monotonic(), time.process_time()
    results = runner.probe_many(targets)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    runner.close()
    healthy = sum(r.outcome == "healthy" for r in results)
    print(f"2. {args.connectors} connectors answering after 100 ms, concurrency "
          f"{fleet_concurrency}: {elapsed:.1f} s (target <= 10 s), {healthy} healthy, "
          f"{cpu:.1f} s CPU; one after another ~{sequential:.0f} s: "
          f"{sequential / elapsed:.0f}x")  # fmt: skip
    for process in processes:
        process.kill()


if __name__ == "__main__":
    main()
