"""Redis stopped under traffic: pages, the API and messages-api-config keep answering, and
work asked for during the outage is done once Redis is back."""

import time
from dataclasses import dataclass

import httpx
import pytest

from tests.faults.helpers import seed
from tests.faults.peers import Gate, gated_mcp_server
from tests.servers import Stack, wait_for

pytestmark = pytest.mark.faults

# 30 s in the issue; shorter here to keep the suite quick, still far past every Redis timeout.
OUTAGE_SECONDS = 10
CAUGHT_UP_WITHIN = 60


def _status(client: httpx.Client, method: str, url: str, **kwargs) -> int:
    try:
        return client.request(method, url, **kwargs).status_code
    except httpx.HTTPError:
        return 0  # no answer at all: as bad as a 500


@dataclass
class Outage:
    statuses: dict[str, list[int]]  # every answer during the outage, by URL
    run_started: httpx.Response  # "Check all", asked for during the outage
    run_url: str
    client: httpx.Client
    auth: dict[str, str]

    def failures(self) -> dict[str, list[int]]:
        return {url: [s for s in got if s >= 500 or s == 0] for url, got in self.statuses.items()}


def _outage_under_traffic(servers: Stack, slug: str, reads: list[str], test):
    """Stop Redis for OUTAGE_SECONDS while `reads` (paths under the web server) are asked for
    in a loop and "Check all" is started; then start it again and call `test(outage)`."""
    gate = Gate()
    gate.open()
    mcp = gated_mcp_server(gate)
    try:
        org = seed(servers, "organization", slug=slug, connector_url=f"{mcp.url}/mcp")
        web = servers.web()
        servers.worker()
        # Beat relays the outbox every 5 s: work asked for during the outage goes out after it.
        servers.beat()
        auth = {"Authorization": f"Bearer {org['token']}"}
        urls = [web.url + path for path in reads]
        api = f"{web.url}/api/v1/orgs/{slug}"
        with httpx.Client(timeout=15, cookies={"sessionid": org["session"]}) as client:
            assert [_status(client, "GET", url, headers=auth) for url in urls] == [200] * len(urls)

            servers.redis.stop()
            statuses: dict[str, list[int]] = {url: [] for url in urls}
            started = client.post(f"{api}/health-runs", headers=auth)
            statuses["POST health-runs"] = [started.status_code]
            ends = time.monotonic() + OUTAGE_SECONDS
            while time.monotonic() < ends:  # traffic for as long as Redis is down
                for url in urls:
                    statuses[url].append(_status(client, "GET", url, headers=auth))
            servers.redis.start()

            run_id = started.json()["run_id"] if started.status_code == 202 else None
            run_url = f"{api}/health-runs/{run_id}"
            test(Outage(statuses, started, run_url, client, auth))
    finally:
        mcp.stop()


def test_pages_and_the_api_answer_while_redis_is_down(servers):
    def test(outage: Outage):
        reads = {url: got for url, got in outage.statuses.items() if url.startswith("http")}
        assert all(len(got) >= 5 for got in reads.values())  # traffic all along the outage
        assert {url: sorted(set(got)) for url, got in reads.items()} == {
            url: [200] for url in reads
        }

    _outage_under_traffic(
        servers,
        "redis-reads",
        ["/orgs/redis-reads/connectors/", "/api/v1/orgs/redis-reads/connectors"],
        test,
    )


def test_redis_stopped_under_traffic_costs_no_500_and_loses_no_work(servers):
    def test(outage: Outage):
        assert outage.failures() == {url: [] for url in outage.statuses}, outage.failures()
        assert outage.run_started.status_code == 202
        wait_for(
            lambda: outage.client.get(outage.run_url, headers=outage.auth).json()["finished"],
            timeout=CAUGHT_UP_WITHIN,
            what="the run asked for during the outage to finish after it",
        )
        assert outage.client.get(outage.run_url, headers=outage.auth).json()["done"] == 1

    _outage_under_traffic(
        servers,
        "redis-down",
        [
            "/orgs/redis-down/connectors/",
            "/api/v1/orgs/redis-down/connectors",
            "/api/v1/orgs/redis-down/messages-api-config",
        ],
        test,
    )
