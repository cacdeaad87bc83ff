"""A connector's OAuth client secret goes in once and never comes out: not on a page, not in a
log line, not in the audit trail."""

import json
import logging

import pytest
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector
from orgconnectors.encryption import decrypt
from tests.responses import text
from tests.web.pages import page_routes, url_for

SECRET = "s3cr3t-value-zzz"
REGISTRATION = {
    "name": "Tracker",
    "url": "https://tracker.example.com/mcp",
    "transport": "streamable_http",
    "auth": "oauth",
    "oauth_client_id": "client-123",
    "oauth_client_secret": SECRET,
    "tool_default": "allow",
}


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    return caplog


@pytest.fixture
def registered(world, client_as, logs):
    """The connector, registered through the dashboard with the secret; the world's pages now
    point at it."""
    response = client_as("owner").post(reverse("connector_add", args=["acme"]), REGISTRATION)
    assert response.status_code == 302
    connector = Connector.objects.get(name="Tracker")
    world.acme.connector = connector
    return connector


def test_the_secret_is_stored_encrypted(registered):
    assert SECRET not in registered.oauth_client_secret_encrypted
    assert decrypt(registered.oauth_client_secret_encrypted) == SECRET


@pytest.mark.parametrize("role", ["owner", "member", "auditor"])
def test_no_page_shows_the_secret(role, registered, world, client_as, logs):
    client = client_as(role)
    seen = 0
    for name in page_routes():
        response = client.get(url_for(name, world.acme, role=role), follow=True)
        assert SECRET not in text(response), name
        seen += response.status_code == 200
    # Most pages answered the role with their content, not only a refusal.
    assert seen >= 5
    assert SECRET not in logs.text


def test_the_detail_page_says_only_that_a_secret_is_set(registered, client_as):
    response = client_as("owner").get(reverse("connector_detail", args=["acme", registered.pk]))

    assert "A client secret is set" in response.content.decode()


def test_a_form_sent_back_with_an_error_does_not_echo_the_secret(world, client_as, logs):
    response = client_as("owner").post(
        reverse("connector_add", args=["acme"]), REGISTRATION | {"url": "ftp://tracker.example.com"}
    )

    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    assert SECRET not in logs.text


def test_the_edit_form_does_not_echo_a_new_secret(registered, client_as, logs):
    url = reverse("connector_edit", args=["acme", registered.pk])
    client = client_as("owner")

    refused = client.post(
        url, {"name": "", "transport": "auto", "auth": "oauth", "oauth_client_secret": SECRET}
    )
    saved = client.post(
        url,
        {
            "name": "Tracker",
            "transport": "auto",
            "auth": "oauth",
            "oauth_client_id": "client-123",
            "oauth_client_secret": SECRET + "-rotated",
        },
        follow=True,
    )

    assert refused.status_code == 400
    assert saved.status_code == 200
    for response in (refused, saved):
        assert SECRET not in response.content.decode()
    assert SECRET not in logs.text


def test_the_audit_trail_never_holds_the_secret(registered, client_as):
    client_as("owner").post(
        reverse("connector_edit", args=["acme", registered.pk]),
        {"name": "Tracker", "transport": "auto", "auth": "oauth", "oauth_client_id": "client-123",
         "oauth_client_secret": SECRET + "-rotated"},
    )  # fmt: skip

    events = AuditEvent.objects.filter(target_type="connector")
    assert {event.action for event in events} == {"connector.registered", "connector.updated"}
    for event in events:
        assert SECRET not in json.dumps(event.changes)
        assert event.changes["oauth_client_secret"]["after"] == "[redacted]"
