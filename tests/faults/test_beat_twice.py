"""Beat started twice (two schedulers by mistake, or an old one left running during a deploy):
every sweep is sent twice, and still each connector is checked and each credential refreshed
once per interval, since sweeps only take rows they can claim."""

import re

import pytest

from tests.faults.helpers import checks_of, seed
from tests.faults.peers import Gate, TokenEndpoint, gated_mcp_server
from tests.servers import wait_for

pytestmark = pytest.mark.faults

# Beat sends the sweeps every 30 s (health/schedule.py, oauth/schedule.py), the first 30 s
# after it starts; two workers on two busy cores need a while more to run them.
SWEPT_WITHIN = 90


def _succeeded(workers, task: str) -> int:
    done = re.compile(rf"Task {re.escape(task)}\[[^\]]+\] succeeded")
    return sum(len(done.findall(worker.output())) for worker in workers)


def test_two_beats_send_every_sweep_twice_and_nothing_is_done_twice(servers):
    gate = Gate()
    gate.open()
    mcp = gated_mcp_server(gate)
    endpoint = TokenEndpoint()
    token_server = endpoint.serve()
    try:
        # Beat's first sweeps come 30 s after it starts: everything starts at once, the rows
        # are written meanwhile.
        beats = [servers.beat("beat-a", wait=False), servers.beat("beat-b", wait=False)]
        workers = [servers.worker("first", wait=False), servers.worker("second", wait=False)]
        ids = seed(
            servers,
            "connectors",
            slug="two-beats",
            urls=[f"{mcp.url}/mcp?n={n}" for n in range(5)],
            interval=300,
        )["ids"]
        credential = seed(
            servers,
            "due_credential",
            slug="two-beats-oauth",
            token_endpoint=f"{token_server.url}/token",
        )
        for worker in workers:
            worker.wait_for_output(" ready.")
        for beat in beats:
            beat.wait_for_output("Sending due task health-sweep", timeout=SWEPT_WITHIN)
            beat.wait_for_output("Sending due task oauth-refresh-sweep", timeout=SWEPT_WITHIN)
        wait_for(
            lambda: (
                _succeeded(workers, "health.sweep") >= 2
                and _succeeded(workers, "oauth.refresh_sweep") >= 2
                and _succeeded(workers, "oauth.refresh_credential") >= 1
            ),
            timeout=SWEPT_WITHIN,
            what="both beats' sweeps to run",
        )
        refreshed = servers.postgres.scalar(
            "SELECT count(*) FROM audit_auditevent WHERE action = 'oauth.refreshed'"
            " AND target_type = 'connection' AND target_id = %s",
            (str(credential["connection"]),),
        )
        checks = [checks_of(servers, pk) for pk in ids]
    finally:
        mcp.stop()
        token_server.stop()

    assert checks == [1] * len(ids)
    assert refreshed == 1
    assert endpoint.answered == ["refresh-0"]
    assert _succeeded(workers, "oauth.refresh_credential") == 1
