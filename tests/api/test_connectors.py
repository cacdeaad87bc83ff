import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection, Connector, ToolOverride
from orgconnectors.connectors.services import connector_register
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.responses import api_error

CONNECTORS = "/api/v1/orgs/acme/connectors"
CONNECTOR_FIELDS = {
    "id", "name", "url", "transport", "auth", "oauth_client_id", "has_client_secret",
    "tool_default", "directory_slug", "status", "last_checked_at", "members_connected", "tools",
    "health", "created_at",
}  # fmt: skip


def one(connector) -> str:
    return f"{CONNECTORS}/{connector.pk}"


@pytest.fixture
def no_loopback(settings):
    # The test environment allows http:// to loopback for local MCP servers; production does not.
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False


@pytest.fixture
def oauth_connector(org, owner, actor):
    return connector_register(
        organization=org,
        actor=actor(owner),
        name="Tracker",
        url="https://tracker.example.com/mcp",
        transport="sse",
        auth="oauth",
        oauth_client_id="client-123",
        oauth_client_secret="the-stored-secret",
    )


# Registering


def test_it_registers_a_connector_and_answers_it(as_owner):
    response = as_owner.post(
        CONNECTORS,
        {
            "name": "Tracker",
            "url": "https://Tracker.example.com/mcp/",
            "transport": "streamable_http",
            "auth": "oauth",
            "oauth_client_id": "client-123",
            "oauth_client_secret": "never-returned",
            "tool_default": "block",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == CONNECTOR_FIELDS
    connector = Connector.objects.get()
    assert body | {"created_at": None} == {
        "id": connector.pk,
        "name": "Tracker",
        "url": "https://tracker.example.com/mcp",
        "transport": "streamable_http",
        "auth": "oauth",
        "oauth_client_id": "client-123",
        "has_client_secret": True,
        "tool_default": "block",
        "directory_slug": "",
        "status": "unchecked",
        "last_checked_at": None,
        "members_connected": 0,
        "tools": [],
        "health": {
            "outcome": None,
            "latency_ms": None,
            "protocol_version": "",
            "server_name": "",
            "server_version": "",
            "last_error": "",
            "down_since": None,
            "consecutive_failures": 0,
        },
        "created_at": None,
    }


def test_it_takes_defaults_from_the_directory(as_owner):
    response = as_owner.post(CONNECTORS, {"directory_slug": "linear"})

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["url"], body["auth"]) == (
        "Linear",
        "https://mcp.linear.app/mcp",
        "oauth",
    )


def test_it_refuses_a_url_that_is_not_https(as_owner, no_loopback):
    response = as_owner.post(CONNECTORS, {"name": "Wiki", "url": "http://wiki.example.com/mcp"})

    assert response.status_code == 400
    assert api_error(response)["errors"] == {
        "url": ["This URL cannot be used: http:// is not allowed; use https://."]
    }
    assert not Connector.objects.exists()


def test_it_refuses_a_url_already_registered(as_owner, org):
    ConnectorFactory(organization=org, name="Wiki", url="https://wiki.example.com/mcp")

    response = as_owner.post(CONNECTORS, {"name": "Wiki 2", "url": "https://WIKI.example.com/mcp/"})

    assert response.status_code == 400
    assert api_error(response)["errors"] == {
        "url": [
            "https://wiki.example.com/mcp is already registered in this organization as “Wiki”."
        ]
    }
    assert Connector.objects.count() == 1


def test_the_same_url_may_be_registered_by_another_organization(as_owner, other_org):
    ConnectorFactory(organization=other_org, url="https://wiki.example.com/mcp")

    response = as_owner.post(CONNECTORS, {"name": "Wiki", "url": "https://wiki.example.com/mcp"})

    assert response.status_code == 201


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"url": "https://wiki.example.com/mcp"}, "name", "Give the connector a name members"),
        ({"name": "Wiki"}, "url", "Enter the server's URL, starting with https://."),
        ({"name": "  ", "url": "https://wiki.example.com/mcp"}, "name", "Give the connector"),
    ],
)
def test_it_requires_a_name_and_a_url(as_owner, body, field, message):
    response = as_owner.post(CONNECTORS, body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert not Connector.objects.exists()


@pytest.mark.parametrize(
    "body, errors",
    [
        (
            {"name": "Wiki", "url": "https://wiki.example.com/mcp", "colour": "red"},
            {"colour": ["This field is not accepted here; remove it."]},
        ),
        (
            {"name": "Wiki", "url": "https://wiki.example.com/mcp", "transport": "pigeon"},
            {"transport": ["Choose one of 'auto', 'streamable_http' or 'sse'."]},
        ),
        (
            {"name": "Wiki", "url": "https://wiki.example.com/mcp", "oauth_client_secret": "x"},
            {"auth": ["OAuth client settings only apply when authentication is OAuth."]},
        ),
        ({"directory_slug": "nope"}, {"directory_slug": ["'nope' is not in the directory."]}),
        # What the database cannot store is refused with a sentence, not a server error.
        (
            {"name": "Wiki", "url": "https://wiki.example.com/" + "a" * 500},
            {"url": ["Keep the URL to at most 500 characters."]},
        ),
        (
            {
                "name": "Wiki",
                "url": "https://wiki.example.com/mcp",
                "auth": "oauth",
                "oauth_client_id": "c" * 256,
            },
            {"oauth_client_id": ["Keep the OAuth client ID to at most 255 characters."]},
        ),
        (
            {"name": "Wiki\x00", "url": "https://wiki.example.com/mcp"},
            {"name": ["Null characters are not allowed; remove them."]},
        ),
    ],
)
def test_it_names_the_field_at_fault(as_owner, body, errors):
    response = as_owner.post(CONNECTORS, body)

    assert response.status_code == 400
    assert api_error(response)["errors"] == errors
    assert not Connector.objects.exists()


def test_a_body_that_is_not_json_is_refused(as_owner):
    response = as_owner.client.post(
        CONNECTORS, "{not json", content_type="application/json", headers=as_owner.headers
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["__all__"]


# Reading


def test_it_lists_the_connectors_with_how_many_members_use_each(as_auditor, org, member, owner):
    wiki = ConnectorFactory(organization=org, name="Wiki")
    tracker = ConnectorFactory(organization=org, name="Tracker")
    ConnectionFactory(membership=member, connector=wiki)
    ConnectionFactory(membership=owner, connector=wiki, state=Connection.State.NEEDS_AUTHORIZATION)
    ConnectionFactory(membership=owner, connector=tracker, state=Connection.State.SUSPENDED)

    response = as_auditor.get(CONNECTORS)

    assert response.status_code == 200
    assert [(c["name"], c["members_connected"]) for c in response.json()] == [
        ("Tracker", 0),
        ("Wiki", 2),
    ]


def test_the_list_holds_only_this_organizations_connectors(as_member, org, other_org):
    ConnectorFactory(organization=org, name="Ours")
    ConnectorFactory(organization=other_org, name="Theirs")

    assert [c["name"] for c in as_member.get(CONNECTORS).json()] == ["Ours"]


# Changing


def test_patch_changes_only_the_fields_sent(as_owner, oauth_connector):
    stored_secret = oauth_connector.oauth_client_secret_encrypted

    response = as_owner.patch(one(oauth_connector), {"name": "Issue tracker"})

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["transport"], body["auth"]) == ("Issue tracker", "sse", "oauth")
    assert (body["oauth_client_id"], body["has_client_secret"]) == ("client-123", True)
    oauth_connector.refresh_from_db()
    assert oauth_connector.name == "Issue tracker"
    assert oauth_connector.oauth_client_secret_encrypted == stored_secret
    event = AuditEvent.objects.get(action="connector.updated")
    assert event.changes == {"name": {"before": "Tracker", "after": "Issue tracker"}}


def test_patch_with_a_new_secret_replaces_it_without_showing_it(as_owner, oauth_connector):
    response = as_owner.patch(one(oauth_connector), {"oauth_client_secret": "rotated-secret"})

    assert response.status_code == 200
    assert "rotated-secret" not in response.content.decode()
    event = AuditEvent.objects.get(action="connector.updated")
    assert event.changes == {"oauth_client_secret": {"before": "[redacted]", "after": "[redacted]"}}


def test_patch_refuses_a_new_url(as_owner, oauth_connector):
    response = as_owner.patch(
        one(oauth_connector), {"name": "Moved", "url": "https://elsewhere.example.com/mcp"}
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["url"]
    assert "cannot be changed" in response.json()["errors"]["url"][0]
    oauth_connector.refresh_from_db()
    assert oauth_connector.name == "Tracker"


def test_patch_refuses_an_empty_name(as_owner, oauth_connector):
    response = as_owner.patch(one(oauth_connector), {"name": ""})

    assert response.status_code == 400
    assert api_error(response)["errors"] == {"name": ["Give the connector a name."]}


@pytest.mark.parametrize(
    "body, errors",
    [
        (
            {"oauth_client_id": "c" * 256},
            {"oauth_client_id": ["Keep the OAuth client ID to at most 255 characters."]},
        ),
        ({"name": "Tra\x00cker"}, {"name": ["Null characters are not allowed; remove them."]}),
    ],
)
def test_patch_refuses_what_cannot_be_stored(as_owner, oauth_connector, body, errors):
    response = as_owner.patch(one(oauth_connector), body)

    assert response.status_code == 400
    assert api_error(response)["errors"] == errors
    oauth_connector.refresh_from_db()
    assert (oauth_connector.name, oauth_connector.oauth_client_id) == ("Tracker", "client-123")


def test_patch_with_nothing_new_records_nothing(as_owner, oauth_connector):
    response = as_owner.patch(one(oauth_connector), {"name": "Tracker", "transport": "sse"})

    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="connector.updated").exists()


def test_turning_on_oauth_asks_connected_members_to_authorize(as_owner, org, member):
    connector = ConnectorFactory(organization=org)
    connection = ConnectionFactory(membership=member, connector=connector)

    response = as_owner.patch(one(connector), {"auth": "oauth"})

    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.state == Connection.State.NEEDS_AUTHORIZATION


def test_delete_removes_the_connector_and_every_members_connection(as_owner, org, member):
    connector = ConnectorFactory(organization=org, name="Wiki")
    ConnectionFactory(membership=member, connector=connector)

    response = as_owner.delete(one(connector))

    assert response.status_code == 204
    assert response.content == b""
    assert not Connector.objects.exists()
    assert not Connection.objects.exists()
    event = AuditEvent.objects.get(action="connector.removed")
    assert event.changes["members_connected"] == {"before": 1, "after": 0}
    assert as_owner.get(one(connector)).status_code == 404


# The tool policy


@pytest.fixture
def connector_with_tools(org):
    return ConnectorFactory(
        organization=org,
        discovered_tools=[
            {"name": "search", "annotations": {"readOnlyHint": True}},
            {"name": "delete_page", "annotations": {"destructiveHint": True}},
        ],
    )


def test_the_tool_policy_sets_the_default_and_every_override(as_owner, connector_with_tools):
    response = as_owner.put(
        one(connector_with_tools) + "/tool-policy",
        {"default": "block", "overrides": {"search": True, "not_reported_yet": True}},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["tool_default"] == "block"
    assert body["tools"] == [
        {"name": "search", "enabled": True},
        {"name": "delete_page", "enabled": False},
        {"name": "not_reported_yet", "enabled": True},
    ]


def test_the_tool_policy_replaces_the_previous_one(as_owner, connector_with_tools):
    path = one(connector_with_tools) + "/tool-policy"
    as_owner.put(path, {"default": "allow", "overrides": {"delete_page": False}})

    response = as_owner.put(path, {"default": "allow"})

    assert response.status_code == 200
    assert [tool["enabled"] for tool in response.json()["tools"]] == [True, True]
    assert not ToolOverride.objects.exists()
    assert AuditEvent.objects.filter(action="connector.tool_policy_changed").count() == 2


def test_the_tool_policy_refuses_a_tool_name_that_cannot_be_one(as_owner, connector_with_tools):
    response = as_owner.put(
        one(connector_with_tools) + "/tool-policy",
        {"default": "allow", "overrides": {"rm -rf": False}},
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tools"]
    assert not ToolOverride.objects.exists()


def test_the_tool_policy_needs_a_default(as_owner, connector_with_tools):
    response = as_owner.put(one(connector_with_tools) + "/tool-policy", {"overrides": {}})

    assert response.status_code == 400
    assert api_error(response)["errors"] == {"default": ["This field is required."]}
