"""Health checks of an OAuth connector use an owner's own authorized connection, so the tool
list is the real one; the token is read from the vault in the worker, just before the probe,
and never travels in a task's arguments, a log line or a stored row."""

import json
import logging
import os

import anyio
import httpx2
import pytest
from django.core import serializers
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.health import pool
from orgconnectors.health.bearer import attach_bearer, bearer_for
from orgconnectors.health.models import HealthCheck
from orgconnectors.health.pool import ProbeRunner
from orgconnectors.health.probe import ProbeConfig, ProbeTarget
from orgconnectors.health.services import health_check_now, health_sweep
from orgconnectors.oauth.vault import access_token_of
from orgconnectors.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def runner():
    """A worker's runner: one loop and one pooled client behind the egress guard."""
    probe_runner = ProbeRunner(config=ProbeConfig(timeout=5.0, slow_ms=5000), concurrency=4)
    yield probe_runner
    probe_runner.close()


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _due(connector: Connector) -> None:
    Connector.objects.filter(pk=connector.pk).update(next_check_at=timezone.now())


def _stored_rows() -> str:
    rows = [*HealthCheck.objects.all(), *Connector.objects.all(), *AuditEvent.objects.all()]
    return serializers.serialize("json", rows)


def test_without_an_owners_authorization_the_check_sees_the_401(
    member, oauth_connector, authorize, runner
):
    authorize(member, oauth_connector)  # a member's token is theirs, not the health check's
    _due(oauth_connector)

    report = health_sweep(runner=runner)

    assert report.recorded == 1
    check = HealthCheck.objects.get(connector=oauth_connector)
    assert check.outcome == "auth_required"
    assert check.tool_count is None
    assert check.oauth["resource_metadata"]["resource"] == oauth_connector.url
    oauth_connector.refresh_from_db()
    assert oauth_connector.discovered_tools in (None, [])


def test_with_an_owners_token_the_check_is_healthy_with_the_real_tool_list(
    owner, member, oauth_connector, authorize, runner, logs
):
    authorize(member, oauth_connector)
    authorized = authorize(owner, oauth_connector)
    token = access_token_of(authorized.connection.oauth_credential)
    _due(oauth_connector)

    health_sweep(runner=runner)

    check = HealthCheck.objects.get(connector=oauth_connector)
    assert (check.outcome, check.error) == ("healthy", "")
    assert check.tool_count == 1
    oauth_connector.refresh_from_db()
    assert oauth_connector.status == "healthy"
    assert [tool["name"] for tool in oauth_connector.discovered_tools] == ["search"]
    assert token not in logs.text
    assert token not in _stored_rows()


def test_check_now_sends_ids_and_the_worker_reads_the_token(
    owner,
    oauth_connector,
    authorize,
    runner,
    actor,
    logs,
    monkeypatch,
    django_capture_on_commit_callbacks,
    eager_celery,
):
    authorized = authorize(owner, oauth_connector)
    token = access_token_of(authorized.connection.oauth_credential)
    monkeypatch.setattr(pool, "_runner", runner)
    monkeypatch.setattr(pool, "_runner_pid", os.getpid())

    with django_capture_on_commit_callbacks(execute=True):
        run_id = health_check_now(connector=oauth_connector, actor=actor(owner))

    # What the broker carries is the outbox row's arguments.
    sent = list(OutboxMessage.objects.filter(task_name="health.run_batch").values_list("kwargs"))
    assert sent == [({"run_id": run_id, "connector_ids": [oauth_connector.pk]},)]
    check = HealthCheck.objects.get(connector=oauth_connector, run_id=run_id)
    assert check.outcome == "healthy"
    assert token not in json.dumps(sent)
    assert token not in logs.text


def test_a_target_never_shows_its_token():
    target = ProbeTarget(url="https://mcp.example.com/mcp", access_token="tok-123")

    assert "tok-123" not in repr(target)
    assert target == ProbeTarget(url="https://mcp.example.com/mcp")


@pytest.mark.parametrize(
    "url, sent",
    [
        ("https://mcp.example.com/mcp", True),
        ("https://mcp.example.com/.well-known/oauth-protected-resource/mcp", True),
        ("https://auth.example.com/.well-known/oauth-authorization-server", False),
        ("https://mcp.example.com:8443/mcp", False),
        ("http://mcp.example.com/mcp", False),
    ],
)
def test_the_token_goes_to_the_servers_own_origin_only(url, sent):
    request = httpx2.Request("GET", url)

    with bearer_for("https://mcp.example.com/mcp", "tok-123"):
        anyio.run(attach_bearer, request)

    assert (request.headers.get("Authorization") == "Bearer tok-123") is sent


def test_no_token_outside_its_probe():
    with bearer_for("https://mcp.example.com/mcp", "tok-123"):
        pass
    request = httpx2.Request("GET", "https://mcp.example.com/mcp")

    anyio.run(attach_bearer, request)

    assert "Authorization" not in request.headers
