"""GET /api/v1/orgs/{org}/messages-api-config: what goes in, what is left out, and who sees it."""

from datetime import datetime, timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orgconnectors.audit.models import UsageEvent
from orgconnectors.connectors.models import Connection, Connector, ToolOverride
from tests.api.conftest import session_client, token_client
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.messages_api.helpers import CONFIG, assert_valid_messages_api_config, stored_credential

pytestmark = pytest.mark.django_db

URL = CONFIG.format(org="acme")
NEW_DEFAULT = {"anthropic-beta": "mcp-client-2026-09-15", "anthropic-version": "2023-06-01"}


def beside_listings(warnings: list[dict]) -> list[dict]:
    """The warnings other than `tools_not_listed`, which every connector here gets: none has an
    approved tool listing (tests/messages_api/test_tool_handout.py has those)."""
    return [w for w in warnings if w["code"] != "tools_not_listed"]


def connect(membership, state=Connection.State.ENABLED, **connector_fields):
    connector_fields.setdefault("status", Connector.Status.HEALTHY)
    connector = ConnectorFactory(organization=membership.organization, **connector_fields)
    return ConnectionFactory(membership=membership, connector=connector, state=state)


@pytest.fixture
def api(member, actor):
    return token_client(member, actor=actor)


def test_the_answer_is_a_valid_messages_api_configuration(member, api):
    docs = connect(member, name="Docs search")
    oauth = connect(member, name="Tracker", auth=Connector.Auth.OAUTH)
    stored_credential(oauth, token="tracker-token")
    wiki = connect(member, name="Wiki", tool_default=Connector.ToolDefault.BLOCK)
    ToolOverride.objects.create(connector=wiki.connector, tool_name="search", enabled=True)
    ToolOverride.objects.create(connector=oauth.connector, tool_name="delete", enabled=False)

    response = api.get(URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert_valid_messages_api_config(body)
    assert body["mcp_servers"] == [
        {"type": "url", "url": docs.connector.url, "name": "docs-search"},
        {"type": "url", "url": oauth.connector.url, "name": "tracker",
         "authorization_token": "tracker-token"},
        {"type": "url", "url": wiki.connector.url, "name": "wiki"},
    ]  # fmt: skip
    assert body["tools"] == [
        {"type": "mcp_toolset", "mcp_server_name": "docs-search"},
        {"type": "mcp_toolset", "mcp_server_name": "tracker",
         "configs": {"delete": {"enabled": False}}},
        {"type": "mcp_toolset", "mcp_server_name": "wiki", "default_config": {"enabled": False},
         "configs": {"search": {"enabled": True}}},
    ]  # fmt: skip
    assert body["headers"] == NEW_DEFAULT
    assert [(w["code"], w["connector_name"]) for w in body["warnings"]] == [
        ("tools_not_listed", "Docs search"),
        ("tools_not_listed", "Tracker"),
        ("tools_not_listed", "Wiki"),
    ]


def test_expires_at_is_the_earliest_token_expiry_or_null(member, api):
    assert api.get(URL).json()["expires_at"] is None
    stored_credential(connect(member, name="A", auth="oauth"), token="a", expires_in=3600)
    soon = stored_credential(connect(member, name="B", auth="oauth"), token="b", expires_in=900)

    body = api.get(URL).json()

    # To the millisecond, as the API writes times.
    answered = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) <= soon.expires_at - answered < timedelta(milliseconds=1)


def test_a_token_without_expiry_does_not_set_expires_at(member, api):
    stored_credential(connect(member, name="A", auth="oauth"), token="a", expires_in=None)

    body = api.get(URL).json()

    assert body["mcp_servers"][0]["authorization_token"] == "a"
    assert body["expires_at"] is None


def test_another_members_and_another_organizations_connections_never_appear(
    member, owner, other_member, api
):
    mine = connect(member, name="Mine")
    connect(owner, name="Owners only")
    shared = ConnectorFactory(organization=member.organization, name="Shared", status="healthy")
    ConnectionFactory(membership=owner, connector=shared)
    stored_credential(connect(owner, name="Owner tracker", auth="oauth"), token="owner-secret")
    stored_credential(connect(other_member, name="Globex", auth="oauth"), token="globex-secret")

    response = api.get(URL)

    assert [s["url"] for s in response.json()["mcp_servers"]] == [mine.connector.url]
    assert "secret" not in response.content.decode()
    assert beside_listings(response.json()["warnings"]) == []


def test_disconnected_connections_are_neither_in_it_nor_warned_about(member, api):
    connect(member, name="Gone", state=Connection.State.DISABLED)

    assert api.get(URL).json() == {
        "headers": NEW_DEFAULT,
        "mcp_servers": [],
        "tools": [],
        "expires_at": None,
        "warnings": [],
    }


def test_connections_that_cannot_work_are_left_out_with_a_warning_saying_why(member, api):
    ok = connect(member, name="Fine")
    suspended = connect(member, name="Paused", state=Connection.State.SUSPENDED)
    Connection.objects.filter(pk=suspended.pk).update(state_reason="The plan moved to Free.")
    pending = connect(member, name="Pending", auth="oauth", state="needs_authorization")
    connect(member, name="Broken", status=Connector.Status.DOWN)
    connect(member, name="Local", url="http://127.0.0.1:9000/mcp")
    connect(member, name="No token", auth="oauth")

    body = api.get(URL).json()

    assert [s["url"] for s in body["mcp_servers"]] == [ok.connector.url]
    warnings = {w["connector_name"]: w for w in beside_listings(body["warnings"])}
    assert {name: w["code"] for name, w in warnings.items()} == {
        "Paused": "suspended",
        "Pending": "needs_authorization",
        "Broken": "unhealthy",
        "Local": "not_https",
        "No token": "needs_authorization",
    }
    assert "The plan moved to Free." in warnings["Paused"]["message"]
    assert warnings["Pending"]["connector_id"] == pending.connector_id
    assert "https" in warnings["Local"]["message"]


def test_connectors_with_the_same_name_get_distinct_stable_names(member, api):
    first = connect(member, name="Wiki")
    second = connect(member, name="wiki")

    names = {s["url"]: s["name"] for s in api.get(URL).json()["mcp_servers"]}

    assert names == {
        first.connector.url: "wiki",
        second.connector.url: f"wiki-{second.connector_id}",
    }
    Connection.objects.filter(pk=first.pk).update(state=Connection.State.DISABLED)
    again = api.get(URL).json()["mcp_servers"]
    assert [s["name"] for s in again] == [f"wiki-{second.connector_id}"]


def test_the_connectors_parameter_narrows_by_name_or_id(member, api):
    wiki = connect(member, name="Wiki")
    tracker = connect(member, name="Tracker")
    connect(member, name="Docs")

    by_name = api.get(URL, {"connectors": "wiki"}).json()
    by_id = api.get(URL, {"connectors": f"{tracker.connector_id}, wiki"}).json()

    assert [s["url"] for s in by_name["mcp_servers"]] == [wiki.connector.url]
    assert {s["name"] for s in by_id["mcp_servers"]} == {"tracker", "wiki"}
    assert [t["mcp_server_name"] for t in by_id["tools"]] == [
        s["name"] for s in by_id["mcp_servers"]
    ]


def test_unknown_connectors_are_a_400_naming_them(member, api):
    connect(member, name="Wiki")

    response = api.get(URL, {"connectors": "wiki,nope,999999"})

    assert response.status_code == 400
    (message,) = response.json()["errors"]["connectors"]
    assert (
        "“nope”" in message and "“999999”" in message and "wiki" not in message.split("called")[1]
    )


def test_a_connector_asked_for_but_not_connected_is_a_warning(member, api):
    other = ConnectorFactory(organization=member.organization, name="Calendar")

    body = api.get(URL, {"connectors": "calendar"}).json()

    assert body["mcp_servers"] == []
    assert body["warnings"] == [
        {
            "code": "not_connected",
            "connector_id": other.pk,
            "connector_name": None,
            "message": "You have not connected “calendar”; connect it on My connectors to use it.",
        }
    ]


def test_a_policy_blocking_every_tool_is_said(member, api):
    connect(member, name="Locked", tool_default=Connector.ToolDefault.BLOCK)

    body = api.get(URL).json()

    assert body["tools"] == [
        {"type": "mcp_toolset", "mcp_server_name": "locked", "default_config": {"enabled": False}}
    ]
    assert [w["code"] for w in body["warnings"]] == ["tools_not_listed", "no_tools_allowed"]


def test_members_are_told_when_the_organization_requires_zero_data_retention(org, member, api):
    org.requires_zero_data_retention = True
    org.save()

    (warning,) = api.get(URL).json()["warnings"]

    assert warning["code"] == "zero_data_retention"
    assert "not covered" in warning["message"]


def test_the_session_works_as_well_as_a_token(member):
    connect(member, name="Wiki")

    response = session_client(member).get(URL)

    assert response.status_code == 200
    assert [s["name"] for s in response.json()["mcp_servers"]] == ["wiki"]


def test_each_answer_is_a_usage_event(member, actor, django_capture_on_commit_callbacks):
    api_token_client = token_client(member, actor=actor)
    a, b = connect(member, name="A"), connect(member, name="B")
    connect(member, name="Down", status="down")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_token_client.get(URL, headers={"X-Forwarded-For": "198.51.100.1"})

    assert response.status_code == 200
    events = UsageEvent.objects.filter(kind=UsageEvent.Kind.CONFIGURATION).order_by("connector_id")
    assert [e.connector_id for e in events] == [a.connector_id, b.connector_id]
    token = member.user.api_tokens.get()
    for event in events:
        assert (event.organization_id, event.user_id, event.api_token_id, event.ip) == (
            member.organization_id, member.user_id, token.pk, "127.0.0.1",
        )  # fmt: skip
        assert event.details["servers"] == ["a", "b"]
        assert event.details["left_out"] == ["tools_not_listed", "tools_not_listed", "unhealthy"]


def test_an_answer_naming_no_connector_is_still_a_usage_event(
    member, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.get(URL)

    (event,) = UsageEvent.objects.filter(kind=UsageEvent.Kind.CONFIGURATION)
    assert (event.user_id, event.connector_id) == (member.user_id, None)


def test_auditors_have_no_configuration(auditor, actor):
    response = token_client(auditor, actor=actor).get(URL)

    assert response.status_code == 403
    assert "Only owners and members" in response.json()["detail"]


def _queries(api, capture_on_commit) -> list[str]:
    # The usage events are written once the request's work commits: counted here too.
    with CaptureQueriesContext(db_connection) as queries, capture_on_commit(execute=True):
        assert api.get(URL).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_the_number_of_queries_does_not_grow_with_connections(
    member, api, django_capture_on_commit_callbacks
):
    first = connect(member, name="Connector 0", auth="oauth")
    stored_credential(first, token="t0")
    ToolOverride.objects.create(connector=first.connector, tool_name="x", enabled=False)
    api.get(URL)  # the token's last_used_at is written once a minute: not in the counts
    one = _queries(api, django_capture_on_commit_callbacks)
    for n in range(1, 10):
        connection = connect(member, name=f"Connector {n}", auth="oauth")
        stored_credential(connection, token=f"t{n}")
        ToolOverride.objects.create(connector=connection.connector, tool_name="x", enabled=False)

    ten = _queries(api, django_capture_on_commit_callbacks)

    assert len(one) == len(ten)
    # Reads: the token; the membership; the organization's connectors with the member's
    # connection and credential (one query); their tool overrides.
    reads = [sql for sql in ten if sql.startswith("SELECT")]
    assert len(reads) == 4
    # Writes: the usage events, one INSERT for all of them (with whatever transaction
    # statements the usage log wraps it in).
    (insert,) = [sql for sql in ten if sql.startswith("INSERT")]
    assert "audit_usageevent" in insert
    assert not [sql for sql in ten if sql.startswith(("UPDATE", "DELETE"))]


def test_a_token_about_to_expire_but_not_refreshable_is_left_out_with_the_reason(member, api):
    credential = stored_credential(connect(member, name="Tracker", auth="oauth"), expires_in=30)
    credential.refresh_token_encrypted = ""
    credential.save()

    body = api.get(URL).json()

    assert body["mcp_servers"] == []
    (warning,) = body["warnings"]
    assert warning["code"] == "needs_authorization"
    assert "authorize again" in warning["message"]
    assert Connection.objects.get().state == Connection.State.NEEDS_AUTHORIZATION
    assert timezone.now() - timedelta(minutes=1) < Connection.objects.get().updated_at
