"""A connector's OAuth client secret goes in once and never comes out of the API, its logs or
the audit trail."""

import json
import logging

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from tests.api.operations import path_for, schema_operations
from tests.responses import text

SECRET = "s3cr3t-value-zzz"
CONNECTORS = "/api/v1/orgs/acme/connectors"


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    return caplog


@pytest.fixture
def registered(world, api_as, logs):
    """The connector, registered through the API with the secret; the world's paths now point
    at it."""
    response = api_as("owner").post(
        CONNECTORS,
        {
            "name": "Tracker",
            "url": "https://tracker.example.com/mcp",
            "auth": "oauth",
            "oauth_client_id": "client-123",
            "oauth_client_secret": SECRET,
        },
    )
    assert response.status_code == 201
    assert SECRET not in response.content.decode()
    assert response.json()["has_client_secret"] is True
    connector = Connector.objects.get(name="Tracker")
    world.acme.connector = connector
    return connector


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("role", ["owner", "member", "auditor"])
def test_no_answer_holds_the_secret(role, auth, registered, world, api_as, logs):
    client = api_as(role, auth)
    reads = sorted(path for method, path in schema_operations() if method == "GET")
    for path in reads:
        response = client.get(path_for(path, world.acme))
        assert SECRET not in text(response), path
    assert SECRET not in logs.text


def test_no_write_answers_the_secret(registered, api_as, logs):
    owner = api_as("owner")
    one = f"{CONNECTORS}/{registered.pk}"
    oauth = {"auth": "oauth", "oauth_client_id": "c", "oauth_client_secret": SECRET}

    answers = [
        owner.patch(one, {"oauth_client_secret": SECRET + "-rotated"}),
        owner.patch(one, {"name": "Issue tracker"}),
        owner.put(one + "/tool-policy", {"default": "block"}),
        # A refused write must not echo what it was sent either.
        owner.post(CONNECTORS, {"name": "Again", "url": registered.url} | oauth),
        owner.post(
            CONNECTORS, {"name": "X", "url": "https://x.example.com/mcp"} | oauth | {"auth": "none"}
        ),
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 400, 400]
    for answer in answers:
        assert SECRET not in answer.content.decode()
    assert SECRET not in logs.text


def test_the_audit_trail_never_holds_the_secret(registered, api_as):
    api_as("owner").patch(f"{CONNECTORS}/{registered.pk}", {"oauth_client_secret": "rotated"})

    response = api_as("auditor").get("/api/v1/orgs/acme/audit-events")

    assert SECRET not in response.content.decode()
    events = AuditEvent.objects.filter(target_type="connector")
    assert {event.action for event in events} == {"connector.registered", "connector.updated"}
    for event in events:
        assert SECRET not in json.dumps(event.changes)
        assert "rotated" not in json.dumps(event.changes)
        assert event.changes["oauth_client_secret"]["after"] == "[redacted]"
