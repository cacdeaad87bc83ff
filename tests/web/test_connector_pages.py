import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connector, ToolOverride
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory

ADD = reverse("connector_add", args=["acme"])
VALID = {
    "name": "Docs search",
    "url": "https://docs.example.com/mcp",
    "transport": "auto",
    "auth": "none",
    "tool_default": "allow",
}


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def assert_error_next_to(html: str, field: str, message: str) -> None:
    """The message sits between the field's label and its input, and the input points at it."""
    label = html.index(f'<label for="id_{field}"')
    error = html.index(escape(message))
    widget = html.index(f'name="{field}"')
    assert label < error < widget
    tag = html[widget : html.index(">", widget)]
    assert 'aria-invalid="true"' in tag
    assert f"id_{field}_error" in tag


@pytest.fixture
def no_loopback(settings):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"url": ""}, "url", "Enter the server's URL, starting with https://."),
        ({"name": ""}, "name", "Give the connector a name members will recognise."),
        (
            {"url": "http://docs.example.com/mcp"},
            "url",
            "This URL cannot be used: http:// is not allowed; use https://.",
        ),
        (
            {"oauth_client_secret": "x", "oauth_client_id": ""},
            "auth",
            "OAuth client settings only apply when authentication is OAuth.",
        ),
    ],
)
def test_the_add_form_shows_each_error_next_to_its_field(
    owner, no_loopback, change, field, message
):
    response = signed_in(owner).post(ADD, VALID | change)

    assert response.status_code == 400
    html = response.content.decode()
    assert_error_next_to(html, field, message)
    assert "Check the highlighted fields below." in html
    assert not Connector.objects.exists()


def test_the_add_form_keeps_what_was_typed(owner, no_loopback):
    response = signed_in(owner).post(ADD, VALID | {"url": "http://docs.example.com/mcp"})

    html = response.content.decode()
    assert 'value="Docs search"' in html
    assert 'value="http://docs.example.com/mcp"' in html


def test_the_add_form_refuses_a_url_already_registered(owner, org):
    ConnectorFactory(organization=org, name="Docs", url="https://docs.example.com/mcp")

    response = signed_in(owner).post(ADD, VALID)

    assert response.status_code == 400
    assert_error_next_to(
        response.content.decode(),
        "url",
        "https://docs.example.com/mcp is already registered in this organization as “Docs”.",
    )
    assert Connector.objects.count() == 1


def test_a_directory_entry_fills_in_the_form(owner):
    response = signed_in(owner).get(ADD, {"directory": "notion"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Add Notion" in html
    assert 'value="https://mcp.notion.com/mcp"' in html


def test_adding_a_connector_leads_to_its_page(owner):
    response = signed_in(owner).post(ADD, VALID, follow=True)

    connector = Connector.objects.get()
    assert response.redirect_chain == [
        (reverse("connector_detail", args=["acme", connector.pk]), 302)
    ]
    assert "Docs search was added. Members can connect it now." in response.content.decode()
    assert AuditEvent.objects.filter(action="connector.registered", actor=owner.user).exists()


def test_the_tool_policy_form_saves_a_decision_for_a_tool(owner, org):
    connector = ConnectorFactory(organization=org, discovered_tools=[{"name": "search"}])

    response = signed_in(owner).post(
        reverse("connector_tools", args=["acme", connector.pk]),
        {"default": "block", "tool:search": "allow", "new_tool_decision": "block"},
    )

    assert response.status_code == 302
    connector.refresh_from_db()
    assert connector.tool_default == "block"
    assert list(ToolOverride.objects.values_list("tool_name", "enabled")) == [("search", True)]


def test_the_tool_policy_form_refuses_a_tool_name_that_cannot_be_one(owner, org):
    connector = ConnectorFactory(organization=org)

    response = signed_in(owner).post(
        reverse("connector_tools", args=["acme", connector.pk]),
        {"default": "allow", "new_tool": "rm -rf", "new_tool_decision": "block"},
    )

    assert response.status_code == 400
    assert "is not a valid tool name" in response.content.decode()
    assert not ToolOverride.objects.exists()


def test_an_auditor_sees_the_inventory_without_a_button_to_change_it(auditor, org):
    connector = ConnectorFactory(organization=org, discovered_tools=[{"name": "search"}])
    client = signed_in(auditor)

    listing = client.get(reverse("connector_list", args=["acme"])).content.decode()
    detail = client.get(reverse("connector_detail", args=["acme", connector.pk])).content.decode()

    assert connector.name in listing
    assert reverse("connector_add", args=["acme"]) not in listing
    for owners_only in ("connector_edit", "connector_remove", "connector_tools"):
        assert reverse(owners_only, args=["acme", connector.pk]) not in detail
    assert "<form" not in detail.split('<main id="main"')[1]


def test_the_removal_page_says_how_many_members_lose_the_connector(owner, org):
    connector = ConnectorFactory(organization=org, name="Wiki")
    for _ in range(3):
        ConnectionFactory(membership=MembershipFactory(organization=org), connector=connector)

    response = signed_in(owner).get(reverse("connector_remove", args=["acme", connector.pk]))

    assert response.status_code == 200
    assert "3 members lose this connector." in response.content.decode()
    assert Connector.objects.filter(pk=connector.pk).exists()
