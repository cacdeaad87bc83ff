"""PostgreSQL restarted under a running web server and worker: both recover by themselves."""

import httpx
import pytest

from tests.faults.helpers import checks_of, seed
from tests.servers import wait_for

pytestmark = pytest.mark.faults

RECOVERY_SECONDS = 30


def _answers(client, url, **kwargs) -> int:
    try:
        return client.get(url, **kwargs).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.parametrize("how", ["restart", "crash"])
def test_the_web_server_and_worker_recover_by_themselves_after_postgres_restarts(servers, how):
    org = seed(servers, "organization", slug=f"pg-{how}")
    web = servers.web()
    servers.worker()
    page = f"{web.url}/orgs/pg-{how}/connectors/"
    api = f"{web.url}/api/v1/orgs/pg-{how}/connectors"
    auth = {"Authorization": f"Bearer {org['token']}"}
    with httpx.Client(timeout=10, cookies={"sessionid": org["session"]}) as client:
        # Connections opened before the restart, kept for reuse (CONN_MAX_AGE).
        assert client.get(page).status_code == 200
        assert client.get(api, headers=auth).status_code == 200
        (before,) = seed(servers, "connectors", slug=f"pg-{how}-probe", urls=[web.url])["ids"]
        servers.send_task("health.sweep")
        wait_for(lambda: checks_of(servers, before) == 1, timeout=30, what="the first check")

        if how == "restart":
            servers.postgres.restart()
        else:
            servers.postgres.kill()
            servers.postgres.start()  # recovers from its write-ahead log

        wait_for(
            lambda: _answers(client, page) == 200 and _answers(client, api, headers=auth) == 200,
            timeout=RECOVERY_SECONDS,
            what="the web server to answer 200 again",
        )
        # Every request from here on is answered, the first ones on reopened connections.
        statuses = [_answers(client, page) for _ in range(5)]
        statuses += [_answers(client, api, headers=auth) for _ in range(5)]
        assert statuses == [200] * 10

    (after,) = seed(servers, "connectors", slug=f"pg-{how}-after", urls=[web.url])["ids"]
    servers.send_task("health.sweep")
    wait_for(
        lambda: checks_of(servers, after) == 1,
        timeout=RECOVERY_SECONDS,
        what="a task enqueued after the restart to run on the same worker",
    )
