import json

import pytest
from django.db import connection as db

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.services import connector_register
from orgconnectors.encryption import decrypt
from tests.factories import ConnectorFactory

SECRET = "s3cret-client-value-that-must-not-leak"


@pytest.fixture
def register(org, owner, actor):
    def call(**kwargs):
        kwargs.setdefault("organization", org)
        kwargs.setdefault("actor", actor(owner))
        kwargs.setdefault("name", "Docs search")
        return connector_register(**kwargs)

    return call


@pytest.fixture
def no_loopback(settings):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False


def test_it_registers_a_connector_and_records_it(org, owner, register):
    connector = register(url="https://MCP.Example.com/mcp/", transport="streamable_http")

    assert connector.organization == org
    assert connector.url == "https://mcp.example.com/mcp"
    assert connector.created_by == owner.user
    event = AuditEvent.objects.get(action="connector.registered")
    assert event.organization == org
    assert event.actor == owner.user
    assert (event.ip, event.user_agent) == ("203.0.113.7", "pytest-browser/1.0")
    assert event.target_type == "connector"
    assert event.target_id == str(connector.pk)
    assert event.target_label == "Docs search"
    assert event.changes["url"] == {"before": None, "after": "https://mcp.example.com/mcp"}
    assert event.changes["name"] == {"before": None, "after": "Docs search"}


@pytest.mark.parametrize(
    "url, says",
    [
        ("http://mcp.example.com/mcp", "http:// is not allowed; use https://"),
        ("ftp://mcp.example.com/mcp", "only https:// URLs are allowed"),
        ("mcp.example.com/mcp", "only https:// URLs are allowed"),
    ],
)
def test_it_refuses_a_url_that_is_not_https(register, no_loopback, url, says):
    with pytest.raises(ConnectorError) as refused:
        register(url=url)

    assert refused.value.field == "url"
    assert refused.value.message.startswith("This URL cannot be used:")
    assert says in refused.value.message
    assert not Connector.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "url, says",
    [
        ("https://localhost/mcp", "'localhost' is a loopback address"),
        ("https://127.0.0.1/mcp", "'127.0.0.1' is a loopback address"),
        ("https://10.1.2.3/mcp", "'10.1.2.3' is a private address"),
        ("https://mcp.corp.internal/mcp", "is a private network name (.internal)"),
        ("https://169.254.169.254/latest", "a cloud metadata address"),
    ],
)
def test_it_refuses_an_obviously_local_host(register, no_loopback, url, says):
    with pytest.raises(ConnectorError) as refused:
        register(url=url)

    assert refused.value.field == "url"
    assert says in refused.value.message
    assert not Connector.objects.exists()


def test_it_refuses_an_empty_url(register):
    with pytest.raises(ConnectorError, match="Enter the server's URL") as refused:
        register(url="  ")

    assert refused.value.field == "url"


@pytest.mark.parametrize(
    "duplicate",
    [
        "https://mcp.example.com/mcp",
        "https://MCP.EXAMPLE.COM/mcp/",
        "https://mcp.example.com:443/mcp",
    ],
)
def test_it_refuses_a_url_already_registered_and_names_the_connector(org, register, duplicate):
    ConnectorFactory(organization=org, name="Team docs", url="https://mcp.example.com/mcp")

    with pytest.raises(ConnectorError) as refused:
        register(url=duplicate)

    assert refused.value.field == "url"
    assert refused.value.message == (
        "https://mcp.example.com/mcp is already registered in this organization as “Team docs”."
    )
    assert Connector.objects.filter(organization=org).count() == 1
    assert not AuditEvent.objects.exists()


def test_the_same_url_is_accepted_in_another_organization(
    org, other_org, other_owner, register, actor
):
    ConnectorFactory(organization=org, url="https://mcp.example.com/mcp")

    connector = register(
        organization=other_org, actor=actor(other_owner), url="https://mcp.example.com/mcp"
    )

    assert connector.organization == other_org


def test_a_directory_entry_fills_in_the_name_and_url(org, register):
    connector = register(
        name="", url="", directory_slug="notion", transport="streamable_http", auth="oauth"
    )

    assert connector.name == "Notion"
    assert connector.url == "https://mcp.notion.com/mcp"
    assert connector.directory_slug == "notion"


def test_a_directory_entry_can_be_renamed(register):
    connector = register(name="Our wiki", url="", directory_slug="notion")

    assert connector.name == "Our wiki"
    assert connector.url == "https://mcp.notion.com/mcp"


def test_an_unknown_directory_entry_is_refused(register):
    with pytest.raises(ConnectorError, match="'myspace' is not in the directory") as refused:
        register(name="", url="", directory_slug="myspace")

    assert refused.value.field == "directory_slug"


def test_a_connector_needs_a_name(register):
    with pytest.raises(ConnectorError) as refused:
        register(name="   ", url="https://mcp.example.com/mcp")

    assert refused.value.field == "name"


@pytest.mark.parametrize(
    "field, value", [("transport", "carrier-pigeon"), ("auth", "basic"), ("tool_default", "maybe")]
)
def test_it_refuses_an_unknown_choice(register, field, value):
    with pytest.raises(ConnectorError, match=f"'{value}' is not valid here") as refused:
        register(url="https://mcp.example.com/mcp", **{field: value})

    assert refused.value.field == field


def test_oauth_client_settings_need_oauth(register):
    with pytest.raises(ConnectorError, match="only apply when authentication is OAuth") as refused:
        register(url="https://mcp.example.com/mcp", auth="none", oauth_client_id="abc")

    assert refused.value.field == "auth"


def test_a_client_secret_needs_its_client_id(register):
    with pytest.raises(ConnectorError, match="needs its client ID") as refused:
        register(url="https://mcp.example.com/mcp", auth="oauth", oauth_client_secret=SECRET)

    assert refused.value.field == "oauth_client_id"


def test_the_free_plan_allows_one_custom_connector(org, plan, register):
    org.plan = plan("free")
    org.save()
    register(name="Mine", url="https://mcp1.example.com/mcp")

    with pytest.raises(ConnectorError) as refused:
        register(name="Another", url="https://mcp2.example.com/mcp")

    assert refused.value.message == (
        "The Free plan allows 1 custom connector, and this account has 1. "
        "Remove one or upgrade the plan to add another."
    )
    assert list(Connector.objects.values_list("name", flat=True)) == ["Mine"]
    assert AuditEvent.objects.filter(action="connector.registered").count() == 1


def test_team_owners_register_as_many_connectors_as_they_need(register):
    for n in range(3):
        register(name=f"Server {n}", url=f"https://mcp{n}.example.com/mcp")

    assert Connector.objects.count() == 3


def test_the_client_secret_is_encrypted_at_rest(register):
    connector = register(
        url="https://mcp.example.com/mcp",
        auth="oauth",
        oauth_client_id="client-123",
        oauth_client_secret=SECRET,
    )

    with db.cursor() as cursor:
        cursor.execute(
            "SELECT oauth_client_secret_encrypted FROM connectors_connector WHERE id = %s",
            [connector.pk],
        )
        (stored,) = cursor.fetchone()
    assert stored
    assert SECRET not in stored
    assert decrypt(stored) == SECRET
    assert connector.has_client_secret


def test_the_client_secret_is_redacted_in_the_audit_trail(register):
    register(
        url="https://mcp.example.com/mcp",
        auth="oauth",
        oauth_client_id="client-123",
        oauth_client_secret=SECRET,
    )

    event = AuditEvent.objects.get(action="connector.registered")
    assert event.changes["oauth_client_secret"] == {"before": None, "after": "[redacted]"}
    assert "oauth_client_secret_encrypted" not in event.changes
    stored = Connector.objects.get().oauth_client_secret_encrypted
    everything = json.dumps([e.changes for e in AuditEvent.objects.all()])
    assert SECRET not in everything
    assert stored not in everything
