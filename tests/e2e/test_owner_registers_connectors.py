"""An owner signs in, adds a connector from the directory and a custom one with its own OAuth
client, and finds both in the list; the client secret is never shown again."""

import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_owner_registers_a_directory_and_a_custom_connector(browse):
    world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    secret = f"client-secret-{secrets.token_hex(12)}"
    tab = browse()
    page = tab.page
    nav = page.get_by_role("navigation", name="Main")

    tab.sign_in("owner@acme.test")
    expect(page.get_by_role("heading", name="Connectors", exact=True)).to_be_visible()
    expect(page.get_by_text("No connectors yet")).to_be_visible()

    # From the directory: the card fills in the form.
    page.get_by_role("link", name="Add connector").first.click()
    expect(page.get_by_role("heading", name="Add a connector")).to_be_visible()
    tab.check()
    page.get_by_role("link", name="Use Linear").click()
    expect(page.get_by_role("heading", name="Add Linear")).to_be_visible()
    tab.check()
    expect(page.get_by_label("Name")).to_have_value("Linear")
    expect(page.get_by_label("Server URL")).to_have_value("https://mcp.linear.app/mcp")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_text("Linear was added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Linear")).to_be_visible()
    tab.check()

    # A custom one, with the client its server's owner handed out.
    nav.get_by_role("link", name="Connectors", exact=True).click()
    page.get_by_role("link", name="Add connector").click()
    expect(page.get_by_role("heading", name="Custom connector")).to_be_visible()
    tab.check()
    page.get_by_label("Name").fill("Internal tools")
    page.get_by_label("Server URL").fill("https://tools.acme.test/mcp")
    page.get_by_label("Authentication").select_option(label="OAuth 2.1")
    page.get_by_text("Advanced OAuth settings").click()
    page.get_by_label("OAuth client ID").fill("acme-dashboard")
    page.get_by_label("OAuth client secret").fill(secret)
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_text("Internal tools was added.")).to_be_visible()
    expect(page.get_by_text("A client secret is set")).to_be_visible()
    expect(page.get_by_text("acme-dashboard")).to_be_visible()
    tab.check()

    page.get_by_role("link", name="Edit settings").click()
    expect(page.get_by_role("heading", name="Edit Internal tools")).to_be_visible()
    expect(page.get_by_label("New OAuth client secret")).to_have_value("")
    tab.check()

    # The audit trail records that a secret was set, never the secret.
    nav.get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    tab.check()
    page.get_by_role("link", name="details of Connector registered").first.click()
    expect(page.get_by_role("heading", name="connector.registered")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="oauth_client_secret")).to_be_visible()
    tab.check()

    nav.get_by_role("link", name="Connectors", exact=True).click()
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text="Linear")).to_contain_text("https://mcp.linear.app/mcp")
    expect(rows.filter(has_text="Internal tools")).to_contain_text("https://tools.acme.test/mcp")
    tab.check()

    assert tab.html and not [html for html in tab.html if secret in html]
