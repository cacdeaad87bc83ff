"""Health checks through the JSON API: start a check, follow its run, read a connector's health."""

from orgconnectors.connectors.models import Connector
from tests.api.conftest import token_client
from tests.factories import ConnectorFactory

ORG = "/api/v1/orgs/acme"


def test_check_now_answers_a_run_that_shows_the_result_once_it_is_in(
    owner, auditor, org, actor, peers, process_runner, eager_celery,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    connector = ConnectorFactory(
        organization=org, url=peers.streamable.url + "/mcp", transport=Connector.Transport.AUTO
    )

    with django_capture_on_commit_callbacks(execute=True):
        started = token_client(owner, actor=actor).post(f"{ORG}/connectors/{connector.pk}/check")

    assert started.status_code == 202
    run_id = started.json()["run_id"]
    run = token_client(auditor, actor=actor).get(f"{ORG}/health-runs/{run_id}").json()
    assert (run["kind"], run["total"], run["done"], run["finished"]) == ("one", 1, 1, True)
    [result] = run["results"]
    assert result | {"checked_at": None, "latency_ms": None, "protocol_version": None} == {
        "connector_id": connector.pk,
        "connector_name": connector.name,
        "checked_at": None,
        "outcome": "healthy",
        "latency_ms": None,
        "error": "",
        "protocol_version": None,
        "server_name": "demo",
        "server_version": "1.2.3",
        "tool_count": 2,
        "notes": [
            "The server also offers prompts and resources; the API connector uses only its "
            "tools, so members will not see them."
        ],
        "oauth": {},
    }
    assert result["latency_ms"] >= 0 and result["protocol_version"]


def test_a_connectors_json_carries_its_health(owner, org, actor, peers, runner):
    from orgconnectors.health.services import health_check_now, health_run_batch

    connector = ConnectorFactory(organization=org, url=peers.refused_url)
    run_id = health_check_now(connector=connector, actor=actor(owner))
    health_run_batch(run_id=run_id, connector_ids=[connector.pk], runner=runner)

    body = token_client(owner, actor=actor).get(f"{ORG}/connectors/{connector.pk}").json()

    assert body["status"] == "unreachable"
    assert body["health"] == {
        "outcome": "unreachable",
        "latency_ms": None,
        "protocol_version": "",
        "server_name": "",
        "server_version": "",
        "last_error": "connection refused",
        "down_since": None,
        "consecutive_failures": 1,
    }
    listed = token_client(owner, actor=actor).get(f"{ORG}/connectors").json()
    assert [c["health"]["outcome"] for c in listed] == ["unreachable"]


def test_check_all_counts_every_connector_of_the_organization(owner, org, other_org, actor):
    ConnectorFactory.create_batch(3, organization=org)
    ConnectorFactory(organization=other_org)

    started = token_client(owner, actor=actor).post(f"{ORG}/health-runs")

    assert started.status_code == 202
    run = token_client(owner, actor=actor).get(f"{ORG}/health-runs/{started.json()['run_id']}")
    assert run.json() | {"id": None, "created_at": None} == {
        "id": None,
        "kind": "all",
        "total": 3,
        "done": 0,
        "finished": False,
        "created_at": None,
        "finished_at": None,
        "results": [],
    }
