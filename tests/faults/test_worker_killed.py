"""A worker killed (SIGKILL) in the middle of a probe batch or a token refresh: its claim runs
out and another worker finishes the work, once."""

import re
import time

import pytest

from tests.faults.helpers import checks_of, seed
from tests.faults.peers import Gate, TokenEndpoint, gated_mcp_server
from tests.servers import wait_for

pytestmark = pytest.mark.faults

LEASE_SECONDS = 6
# A batch's lease must hold its owners' tokens, one round of probes and the recording before its
# soft time limit (system check E301): 26 s with a 2 s probe timeout and a 5 s deadline.
PROBE_LEASE_SECONDS = 26
# Leases this short (600 s and 60 s in production) let the test see one run out; the egress
# deadline must stay shorter than each lease (a system check says so).
SHORT_LEASES = {
    "ORGCONNECTORS_PROBE_LEASE_SECONDS": str(PROBE_LEASE_SECONDS),
    "ORGCONNECTORS_PROBE_TIMEOUT_MS": "2000",
    "ORGCONNECTORS_REFRESH_LEASE_SECONDS": str(LEASE_SECONDS),
    "ORGCONNECTORS_REFRESH_SWEEP_LEASE_SECONDS": str(LEASE_SECONDS),
    "ORGCONNECTORS_EGRESS_DEADLINE_SECONDS": str(LEASE_SECONDS - 1),
}
INTERVAL = 300
# After the kill: the rest of the lease, then the next sweep (here sent every second, by beat
# every 30 s), plus the start of a worker on two busy cores.
FINISHED_WITHIN = 60 + PROBE_LEASE_SECONDS


def _sweeping_until(servers, task: str, condition, *, what: str):
    """Send `task` every second, as beat would on its schedule, until `condition()` holds."""

    def swept():
        if condition():
            return True
        servers.send_task(task)
        time.sleep(1)  # the pace of the stand-in for beat, not a wait for a result
        return condition()

    wait_for(swept, timeout=FINISHED_WITHIN, what=what, every=0)


def _more_sweeps_run(servers, worker, task: str, times: int = 3) -> None:
    """Later sweeps, run to the end: they must find nothing due."""
    done = re.compile(rf"Task {re.escape(task)}\[[^\]]+\] succeeded")
    before = len(done.findall(worker.output()))
    for _ in range(times):
        servers.send_task(task)
    wait_for(
        lambda: len(done.findall(worker.output())) >= before + times,
        timeout=FINISHED_WITHIN,
        what=f"{times} more {task} to finish",
    )


def test_a_probe_batch_whose_worker_was_killed_is_checked_once_by_another_worker(servers):
    gate, open_gate = Gate(), Gate()
    open_gate.open()
    held, fine = gated_mcp_server(gate), gated_mcp_server(open_gate)
    try:
        servers.extra_env = SHORT_LEASES
        ids = seed(
            servers,
            "connectors",
            slug="killed-probe",
            urls=[f"{held.url}/mcp", f"{fine.url}/mcp"],
            interval=INTERVAL,
        )["ids"]
        first = servers.worker("first")
        servers.send_task("health.sweep")
        assert gate.arrived.wait(FINISHED_WITHIN), "the batch's probe never reached the server"
        first.kill()
        killed_at = servers.postgres.scalar("SELECT now()")

        assert [checks_of(servers, pk) for pk in ids] == [0, 0]  # the batch died unrecorded
        second = servers.worker("second")
        gate.open()
        _sweeping_until(
            servers,
            "health.sweep",
            lambda: all(checks_of(servers, pk) for pk in ids),
            what="another worker to check the killed batch",
        )
        _more_sweeps_run(servers, second, "health.sweep")
        rows = servers.postgres.query(
            "SELECT c.id, c.status, c.last_checked_at - %s, c.next_check_at - c.last_checked_at,"
            " (SELECT count(*) FROM health_healthcheck h WHERE h.connector_id = c.id)"
            " FROM connectors_connector c WHERE c.id = ANY(%s) ORDER BY c.id",
            (killed_at, ids),
        )
    finally:
        gate.open()
        held.stop()
        fine.stop()

    for _, status, late_by, next_in, checks in rows:
        assert (status, checks) == ("healthy", 1)
        assert late_by.total_seconds() < INTERVAL  # skipped for less than one interval
        assert next_in.total_seconds() == pytest.approx(INTERVAL, abs=1)


def test_a_refresh_whose_worker_was_killed_is_finished_by_another_and_only_once(servers):
    gate = Gate()
    endpoint = TokenEndpoint(gate)
    served = endpoint.serve()
    try:
        servers.extra_env = SHORT_LEASES
        made = seed(
            servers, "due_credential", slug="killed-refresh", token_endpoint=f"{served.url}/token"
        )
        first = servers.worker("first")
        servers.send_task("oauth.refresh_sweep")
        assert gate.arrived.wait(FINISHED_WITHIN), "the refresh never reached the token endpoint"
        first.kill()
        killed_at = servers.postgres.scalar("SELECT now()")
        gate.open()  # the dead worker's request is answered into a closed socket

        second = servers.worker("second")

        def generation():
            return servers.postgres.scalar(
                "SELECT generation FROM oauth_oauthcredential WHERE id = %s", (made["id"],)
            )

        before = generation()
        _sweeping_until(
            servers,
            "oauth.refresh_sweep",
            lambda: generation() != before,
            what="another worker to refresh the credential",
        )
        _more_sweeps_run(servers, second, "oauth.refresh_sweep")
        ((generation_after, late_by, next_in, failures),) = servers.postgres.query(
            "SELECT generation, last_refreshed_at - %s, next_refresh_at - last_refreshed_at,"
            " refresh_failures FROM oauth_oauthcredential WHERE id = %s",
            (killed_at, made["id"]),
        )
        refreshed = servers.postgres.scalar(
            "SELECT count(*) FROM audit_auditevent WHERE action = 'oauth.refreshed'"
            " AND target_type = 'connection' AND target_id = %s",
            (str(made["connection"]),),
        )
    finally:
        gate.open()
        served.stop()

    assert generation_after == before + 1
    assert refreshed == 1
    assert failures == 0
    # The dead worker's request, then the one that counted; both sent the same refresh token.
    assert endpoint.answered == ["refresh-0", "refresh-0"]
    assert 0 < late_by.total_seconds() < FINISHED_WITHIN + LEASE_SECONDS
    assert next_in.total_seconds() > 30 * 60  # due again at 75% of the new hour-long token
