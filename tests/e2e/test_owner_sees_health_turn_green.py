"""An owner registers a connector for a real MCP server, asks for a check, and watches its health
turn green; then checks every connector at once and follows the run to its end. The checks run
on the Celery worker, which reaches the server over loopback as it would over the internet."""

import pytest
from playwright.sync_api import expect

from tests.e2e import world
from tests.e2e.peers import issue_tracker  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_owner_checks_a_new_connector_and_sees_it_healthy(browse, issue_tracker):  # noqa: F811
    world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    tab = browse()
    page = tab.page
    nav = page.get_by_role("navigation", name="Main")

    tab.sign_in("owner@acme.test")
    page.get_by_role("link", name="Add connector").first.click()
    expect(page.get_by_role("heading", name="Custom connector")).to_be_visible()
    tab.check()
    page.get_by_label("Name").fill("Issue tracker")
    page.get_by_label("Server URL").fill(f"{issue_tracker}/mcp")
    page.get_by_role("button", name="Add connector").click()
    expect(page.get_by_text("Issue tracker was added.")).to_be_visible()
    heading = page.get_by_role("heading", name="Issue tracker", exact=False).first
    expect(heading).to_contain_text("Not checked yet")
    tab.check()

    # The worker checks it; the page follows the run and reloads itself with the result.
    page.get_by_role("button", name="Check now").click()
    expect(page.get_by_text("Checking now")).to_be_visible()
    tab.check()
    toast = page.locator("#messages .toast")
    expect(toast).to_contain_text("Issue tracker was checked: Healthy")
    expect(heading).to_contain_text("Healthy")
    health = page.get_by_role("region", name="Health")
    expect(health).to_contain_text("Streamable HTTP")
    expect(health).to_contain_text("demo-issue-tracker")
    tools = page.get_by_role("region", name="Tool policy")
    expect(tools.get_by_text("search_issues")).to_be_visible()
    expect(tools.get_by_text("Can delete or overwrite")).to_be_visible()
    tab.check()

    # Check all: the run's page counts up and announces the end without a reload.
    nav.get_by_role("link", name="Connectors", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Issue tracker")
    expect(row).to_contain_text("Healthy")
    tab.check()
    page.get_by_role("button", name="Check all").click()
    expect(page.get_by_role("heading", name="Check all connectors")).to_be_visible()
    tab.check()
    expect(page.get_by_text("Finished: 1 of 1 checked.")).to_be_visible()
    expect(page.locator("#messages .toast")).to_contain_text(
        "Check all finished: 1 of 1 checked (1 healthy)."
    )
    results = page.get_by_role("table", name="Results, newest first")
    expect(results.get_by_role("row").filter(has_text="Issue tracker")).to_contain_text("Healthy")
    tab.check()
