"""An auditor reads without being offered anything to change: the inventory, then the audit
trail filtered down to one change, then that change's before and after."""

import pytest
from playwright.sync_api import Page, expect

from orgconnectors.connectors.services import connector_update
from orgconnectors.core.actor import Actor
from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The only controls an auditor gets: reading the trail, their own session, and dismissing a
# message ("×").
READING_BUTTONS = {"Filter", "Sign out", "×"}


def assert_nothing_to_change(page: Page) -> None:
    buttons = {" ".join(b.split()) for b in page.get_by_role("button").all_inner_texts()}
    assert buttons <= READING_BUTTONS, f"an auditor is offered {buttons - READING_BUTTONS}"
    for action in ("Add connector", "Edit settings", "Remove", "Save tool policy"):
        expect(page.get_by_role("link", name=action)).to_have_count(0)
        expect(page.get_by_role("button", name=action)).to_have_count(0)


def test_auditor_filters_the_trail_and_reads_a_change(browse):
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    owner = world.owner_of(org)
    wiki = world.connector(org, "Wiki")
    connector_update(connector=wiki, actor=Actor(user=owner.user), name="Company wiki")
    world.connect(world.person(org, "member@acme.test"), wiki)
    world.person(org, "auditor@acme.test", world.Role.AUDITOR)

    tab = browse()
    page = tab.page
    tab.sign_in("auditor@acme.test")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    assert_nothing_to_change(page)

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Connectors", exact=True).click()
    expect(page.get_by_text("You can read them; only owners change them.")).to_be_visible()
    assert_nothing_to_change(page)
    tab.check()
    page.get_by_role("link", name="Company wiki").click()
    expect(page.get_by_role("heading", name="Company wiki")).to_be_visible()
    expect(page.get_by_text("1 member connected.")).to_be_visible()
    assert_nothing_to_change(page)
    tab.check()

    nav.get_by_role("link", name="Audit trail").click()
    events = page.get_by_role("table").get_by_role("row")
    expect(events.filter(has_text="connection.enabled")).to_have_count(1)
    tab.check()
    page.get_by_label("Action").select_option("connector.updated")
    page.get_by_label("Actor email contains").fill("owner@acme")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Clear filters")).to_be_visible()
    expect(events).to_have_count(2)  # the header and one event
    expect(events.nth(1)).to_contain_text("owner@acme.test")
    expect(events.nth(1)).to_contain_text("connector.updated")
    tab.check()

    events.nth(1).get_by_role("link").click()
    expect(page.get_by_role("heading", name="connector.updated")).to_be_visible()
    change = page.get_by_role("row").filter(has_text="name")
    expect(change.get_by_role("cell").nth(0)).to_have_text("Wiki")
    expect(change.get_by_role("cell").nth(1)).to_have_text("Company wiki")
    assert_nothing_to_change(page)
    tab.check()
