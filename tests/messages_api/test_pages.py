"""The "Use with the API" page, the migration page, and the retention notices and setting."""

import json

import pytest
from django.test import Client

from orgconnectors.audit.models import AuditEvent, UsageEvent
from orgconnectors.connectors.models import Connector
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.messages_api.helpers import stored_credential

pytestmark = pytest.mark.django_db

PAGE = "/orgs/acme/use-with-the-api/"
MIGRATE = "/tools/migrate-mcp-request/"


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def tracker(member):
    connector = ConnectorFactory(
        organization=member.organization, name="Tracker", auth=Connector.Auth.OAUTH,
        status="healthy",
    )  # fmt: skip
    connection = ConnectionFactory(membership=member, connector=connector)
    stored_credential(connection, token="tracker-secret-token")
    return connection


def test_the_page_shows_the_configuration_with_tokens_masked(member, tracker):
    response = signed_in(member).get(PAGE)

    page = response.content.decode()
    assert response.status_code == 200
    assert "tracker-secret-token" not in page
    assert "&lt;hidden: choose Reveal tokens&gt;" in page
    assert "Reveal tokens" in page
    assert "betas=[&quot;mcp-client-2026-09-15&quot;]" in page
    assert "client.beta.messages.create(" in page
    assert "anthropic-beta: mcp-client-2026-09-15" in page
    assert (
        "http://127.0.0.1:8000/api/v1/orgs/acme/messages-api-config?beta=mcp-client-2026-09-15"
        in page
    )
    assert response["Cache-Control"].startswith("max-age=0")


def test_looking_at_the_page_refreshes_nothing_and_records_no_usage(
    member, tracker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(member).get(PAGE)

    assert not UsageEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="messages_api.token_revealed").exists()


def test_revealing_shows_the_tokens_and_is_audited_without_them(
    member, tracker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(member).post(PAGE)

    assert response.status_code == 200
    assert "tracker-secret-token" in response.content.decode()
    event = AuditEvent.objects.get(action="messages_api.token_revealed")
    assert event.actor_id == member.user_id
    assert event.changes == {"connectors": {"before": None, "after": ["tracker"]}}
    assert "tracker-secret-token" not in json.dumps(event.changes) + event.target_label
    usage = UsageEvent.objects.get()
    assert (usage.connector_id, usage.details["source"]) == (tracker.connector_id, "dashboard")


def test_the_page_follows_the_beta_chosen_on_it(member, tracker):
    response = signed_in(member).get(PAGE, {"beta": "mcp-client-2025-11-20"})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="mcp-client-2025-11-20" checked' in page
    assert "betas=[&quot;mcp-client-2025-11-20&quot;]" in page
    assert "anthropic-beta: mcp-client-2025-11-20" in page
    assert "messages-api-config?beta=mcp-client-2025-11-20" in page
    assert "mcp-client-2026-09-15&quot;" not in page
    # Revealing keeps the beta chosen.
    assert '<input type="hidden" name="beta" value="mcp-client-2025-11-20">' in page


def test_the_beta_chosen_is_the_one_revealed(member, tracker):
    response = signed_in(member).post(PAGE, {"beta": "mcp-client-2025-11-20"})

    page = response.content.decode()
    assert "tracker-secret-token" in page
    assert "anthropic-beta: mcp-client-2025-11-20" in page


def test_an_unknown_beta_on_the_page_says_which_there_are_and_reveals_nothing(member, tracker):
    browser = signed_in(member)

    shown = browser.get(PAGE, {"beta": "mcp-client-2025-04-04"})
    posted = browser.post(PAGE, {"beta": "nonsense"})

    assert shown.status_code == posted.status_code == 400
    page = shown.content.decode()
    assert "“mcp-client-2025-04-04” is not a beta" in page
    assert 'value="mcp-client-2026-09-15" checked' in page
    assert "tracker-secret-token" not in posted.content.decode()
    assert not AuditEvent.objects.filter(action="messages_api.token_revealed").exists()


def test_claude_code_lines_use_the_transport_and_include_local_servers(member):
    for name, url, transport, detected in [
        ("Wiki", "https://wiki.example.com/mcp", "streamable_http", ""),
        ("Legacy", "https://legacy.example.com/sse", "sse", ""),
        ("Detected", "https://detected.example.com/mcp", "auto", "sse"),
        ("Local demo", "http://127.0.0.1:9100/mcp", "auto", ""),
    ]:
        connector = ConnectorFactory(
            organization=member.organization, name=name, url=url, transport=transport,
            detected_transport=detected,
        )  # fmt: skip
        ConnectionFactory(membership=member, connector=connector)

    page = signed_in(member).get(PAGE).content.decode()

    assert "claude mcp add --transport http wiki https://wiki.example.com/mcp" in page
    assert "claude mcp add --transport sse legacy https://legacy.example.com/sse" in page
    assert "claude mcp add --transport sse detected https://detected.example.com/mcp" in page
    assert "claude mcp add --transport http local-demo http://127.0.0.1:9100/mcp" in page
    assert "Local demo is not served over https" in page


def test_a_member_with_nothing_connected_is_told_what_to_do(member):
    page = signed_in(member).get(PAGE).content.decode()

    assert "None of your connectors is ready for the API yet." in page
    assert 'href="/orgs/acme/my-connectors/"' in page


def test_the_navigation_offers_the_page_to_owners_and_members_only(owner, member, auditor):
    link = 'href="/orgs/acme/use-with-the-api/"'

    assert link in signed_in(owner).get("/orgs/acme/api-tokens/").content.decode()
    assert link in signed_in(member).get("/orgs/acme/api-tokens/").content.decode()
    assert link not in signed_in(auditor).get("/orgs/acme/api-tokens/").content.decode()


def test_the_notices_say_where_connectors_work_on_the_page_and_the_connector_page(owner, member):
    connector = ConnectorFactory(organization=owner.organization)

    for page in (
        signed_in(member).get(PAGE).content.decode(),
        signed_in(owner).get(f"/orgs/acme/connectors/{connector.pk}/").content.decode(),
    ):
        assert "Claude Platform on AWS and Microsoft Foundry" in page
        assert "Not on Amazon Bedrock or Google Vertex AI" in page
        assert "Tools only" in page
        assert "Not covered by zero data retention" in page


# Migration page


OLD = {
    "model": "claude-sonnet-4-5",
    "messages": [{"role": "user", "content": "hi"}],
    "mcp_servers": [
        {
            "type": "url",
            "url": "https://wiki.example.com/mcp",
            "name": "wiki",
            "tool_configuration": {"allowed_tools": ["search"]},
        }
    ],
}


def test_the_migration_page_shows_the_new_request_and_every_change(other_member):
    response = signed_in(other_member).post(MIGRATE, {"request_body": json.dumps(OLD)})

    page = response.content.decode()
    assert response.status_code == 200
    assert "&quot;mcp_toolset&quot;" in page
    assert "mcp_servers[0] (“wiki”): removed tool_configuration." in page
    assert "only search enabled" in page
    assert "send <code>anthropic-beta: mcp-client-2025-11-20</code>" in page


def test_the_migration_page_points_at_each_invalid_path(member):
    bad = {
        **OLD,
        "mcp_servers": [{**OLD["mcp_servers"][0], "tool_configuration": {"allowed_tools": [1]}}],
    }

    response = signed_in(member).post(MIGRATE, {"request_body": json.dumps(bad)})

    assert response.status_code == 400
    assert "mcp_servers[0].tool_configuration.allowed_tools[0]: must be a string" in (
        response.content.decode()
    )


def test_the_migration_page_says_where_json_breaks(member):
    response = signed_in(member).post(MIGRATE, {"request_body": '{\n  "model": }'})

    assert response.status_code == 400
    assert "line 2, column 12" in response.content.decode()


def test_an_empty_migration_form_asks_for_the_request(member):
    response = signed_in(member).post(MIGRATE, {"request_body": ""})

    assert response.status_code == 400
    assert "Paste the JSON body of the request to migrate." in response.content.decode()


# Zero data retention


def test_owners_turn_the_retention_requirement_on_and_off_from_the_plan_page(org, owner):
    browser = signed_in(owner)
    assert "Require zero data retention" in browser.get("/orgs/acme/plan/").content.decode()

    response = browser.post(
        "/orgs/acme/plan/zero-data-retention/", {"requires_zero_data_retention": "true"}
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.requires_zero_data_retention
    event = AuditEvent.objects.get(action="organization.zero_data_retention_changed")
    assert event.changes == {"requires_zero_data_retention": {"before": False, "after": True}}
    browser.post("/orgs/acme/plan/zero-data-retention/", {"requires_zero_data_retention": "false"})
    org.refresh_from_db()
    assert not org.requires_zero_data_retention


ADD = {
    "name": "Docs search",
    "url": "https://docs.example.com/mcp",
    "transport": "auto",
    "auth": "none",
    "tool_default": "allow",
}


@pytest.fixture
def retention_required(org):
    org.requires_zero_data_retention = True
    org.save()
    return org


def test_an_owner_must_confirm_when_adding_a_connector_under_zero_data_retention(
    retention_required, owner
):
    browser = signed_in(owner)
    form = browser.get("/orgs/acme/connectors/add/").content.decode()
    assert 'name="confirm_no_zdr"' in form

    refused = browser.post("/orgs/acme/connectors/add/", ADD)
    accepted = browser.post("/orgs/acme/connectors/add/", {**ADD, "confirm_no_zdr": "on"})

    assert refused.status_code == 400
    assert "Confirm that you know this to add the connector." in refused.content.decode()
    assert accepted.status_code == 302
    event = AuditEvent.objects.get(action="connector.registered")
    assert event.changes["confirmed_not_zero_data_retention"] == {"before": None, "after": True}


def test_the_api_asks_for_the_same_confirmation(retention_required, owner, actor):
    from tests.api.conftest import token_client

    api = token_client(owner, actor=actor)

    refused = api.post("/api/v1/orgs/acme/connectors", ADD)
    accepted = api.post("/api/v1/orgs/acme/connectors", {**ADD, "confirm_no_zdr": True})

    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["confirm_no_zdr"]
    assert accepted.status_code == 201


def test_without_the_requirement_no_confirmation_is_asked(owner):
    browser = signed_in(owner)

    assert 'name="confirm_no_zdr"' not in browser.get("/orgs/acme/connectors/add/").content.decode()
    assert browser.post("/orgs/acme/connectors/add/", ADD).status_code == 302


def test_members_see_the_requirement_on_their_page(retention_required, member):
    page = signed_in(member).get(PAGE).content.decode()

    assert "Acme requires zero data retention." in page
