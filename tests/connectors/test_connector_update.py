import json

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import Connection, Connector, ToolOverride
from orgconnectors.connectors.services import (
    connector_register,
    connector_remove,
    connector_set_tool_policy,
    connector_update,
)
from orgconnectors.encryption import decrypt
from tests.factories import ConnectionFactory, ConnectorFactory

OLD_SECRET = "first-secret-0000-do-not-leak"
NEW_SECRET = "second-secret-1111-do-not-leak"


@pytest.fixture
def connector(org, owner, actor):
    return connector_register(
        organization=org,
        actor=actor(owner),
        name="Docs",
        url="https://mcp.example.com/mcp",
        auth="oauth",
        oauth_client_id="client-1",
        oauth_client_secret=OLD_SECRET,
    )


def updated_events():
    return AuditEvent.objects.filter(action="connector.updated")


def test_it_renames_a_connector_and_records_before_and_after(connector, owner, actor):
    connector_update(connector=connector, actor=actor(owner), name="Company docs")

    connector.refresh_from_db()
    assert connector.name == "Company docs"
    event = updated_events().get()
    assert event.changes == {"name": {"before": "Docs", "after": "Company docs"}}
    assert event.target_label == "Company docs"


def test_the_url_cannot_be_changed(connector, owner, actor):
    with pytest.raises(ConnectorError) as refused:
        connector_update(
            connector=connector, actor=actor(owner), name="New", url="https://other.example.com/mcp"
        )

    assert refused.value.field == "url"
    assert "Remove this connector and add the new URL" in refused.value.message
    connector.refresh_from_db()
    assert (connector.url, connector.name) == ("https://mcp.example.com/mcp", "Docs")
    assert not updated_events().exists()


def test_sending_the_same_url_back_is_not_a_change(connector, owner, actor):
    connector_update(connector=connector, actor=actor(owner), url="https://MCP.example.com/mcp/")

    assert not updated_events().exists()


def test_an_empty_secret_keeps_the_stored_one(connector, owner, actor):
    connector_update(
        connector=connector, actor=actor(owner), oauth_client_secret="", transport="sse"
    )

    connector.refresh_from_db()
    assert decrypt(connector.oauth_client_secret_encrypted) == OLD_SECRET
    assert "oauth_client_secret" not in updated_events().get().changes


def test_a_new_secret_is_encrypted_and_redacted_in_the_trail(connector, owner, actor):
    old_ciphertext = connector.oauth_client_secret_encrypted

    connector_update(connector=connector, actor=actor(owner), oauth_client_secret=NEW_SECRET)

    connector.refresh_from_db()
    assert NEW_SECRET not in connector.oauth_client_secret_encrypted
    assert decrypt(connector.oauth_client_secret_encrypted) == NEW_SECRET
    event = updated_events().get()
    assert event.changes == {"oauth_client_secret": {"before": "[redacted]", "after": "[redacted]"}}
    everything = json.dumps([e.changes for e in AuditEvent.objects.all()])
    for leak in (OLD_SECRET, NEW_SECRET, old_ciphertext, connector.oauth_client_secret_encrypted):
        assert leak not in everything


def test_clearing_the_client_id_clears_the_secret(connector, owner, actor):
    connector_update(connector=connector, actor=actor(owner), oauth_client_id="")

    connector.refresh_from_db()
    assert not connector.has_client_secret
    assert updated_events().get().changes["oauth_client_secret"] == {
        "before": "[redacted]",
        "after": None,
    }


def test_turning_on_oauth_asks_connected_members_to_authorize(org, owner, member, actor):
    plain = ConnectorFactory(organization=org, auth=Connector.Auth.NONE)
    connection = ConnectionFactory(membership=member, connector=plain)

    connector_update(connector=plain, actor=actor(owner), auth="oauth")

    connection.refresh_from_db()
    assert connection.state == Connection.State.NEEDS_AUTHORIZATION
    assert connection.state_reason == "The owner turned on OAuth for this connector."


def test_oauth_settings_without_oauth_are_refused(org, owner, actor):
    plain = ConnectorFactory(organization=org, auth=Connector.Auth.NONE)

    with pytest.raises(ConnectorError) as refused:
        connector_update(connector=plain, actor=actor(owner), oauth_client_id="abc")

    assert refused.value.field == "auth"
    plain.refresh_from_db()
    assert plain.oauth_client_id == ""


def test_an_update_that_changes_nothing_is_not_recorded(connector, owner, actor):
    connector_update(connector=connector, actor=actor(owner), name="Docs")

    assert not updated_events().exists()


def test_setting_a_tool_policy_records_it(connector, owner, actor):
    connector_set_tool_policy(
        connector=connector,
        actor=actor(owner),
        default="block",
        overrides={"search": True, "delete_page": False},
    )

    assert dict(connector.tool_overrides.values_list("tool_name", "enabled")) == {
        "search": True,
        "delete_page": False,
    }
    connector.refresh_from_db()
    assert connector.tool_default == "block"
    event = AuditEvent.objects.get(action="connector.tool_policy_changed")
    assert event.changes == {
        "overrides": {"before": {}, "after": {"delete_page": False, "search": True}},
        "tool_default": {"before": "allow", "after": "block"},
    }


def test_a_tool_policy_replaces_the_previous_one_entirely(connector, owner, actor):
    connector_set_tool_policy(
        connector=connector, actor=actor(owner), default="allow", overrides={"delete_page": False}
    )

    connector_set_tool_policy(
        connector=connector, actor=actor(owner), default="allow", overrides={"search": False}
    )

    assert list(ToolOverride.objects.values_list("tool_name", "enabled")) == [("search", False)]
    last = AuditEvent.objects.filter(action="connector.tool_policy_changed").latest("id")
    assert last.changes == {
        "overrides": {"before": {"delete_page": False}, "after": {"search": False}}
    }


def test_the_same_tool_policy_twice_is_recorded_once(connector, owner, actor):
    for _ in range(2):
        connector_set_tool_policy(
            connector=connector, actor=actor(owner), default="allow", overrides={"search": True}
        )

    assert AuditEvent.objects.filter(action="connector.tool_policy_changed").count() == 1


def test_an_invalid_tool_name_is_refused(connector, owner, actor):
    with pytest.raises(ConnectorError, match="is not a valid tool name") as refused:
        connector_set_tool_policy(
            connector=connector, actor=actor(owner), default="allow", overrides={"rm -rf": False}
        )

    assert refused.value.field == "tools"
    assert not ToolOverride.objects.exists()


def test_removing_a_connector_records_how_many_members_used_it(org, owner, member, actor):
    docs = ConnectorFactory(organization=org, name="Docs")
    ConnectionFactory(membership=member, connector=docs)
    ConnectionFactory(membership=owner, connector=docs, state=Connection.State.DISABLED)

    connector_remove(connector=docs, actor=actor(owner))

    assert not Connector.objects.exists()
    assert not Connection.objects.exists()
    event = AuditEvent.objects.get(action="connector.removed")
    assert event.target_label == "Docs"
    assert event.changes["members_connected"] == {"before": 1, "after": 0}
    assert event.changes["url"] == {"before": docs.url, "after": None}
