"""A person who owns one organization and audits another switches between them with the switcher in
the top bar: in the first they find Members, Plan and the buttons that change connectors; in the
second only what an auditor reads, and a page for owners typed into the address bar says why it
is not theirs."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OWNER_NAV = [
    "Connectors",
    "My connectors",
    "Members",
    "Groups",
    "Plan",
    "Quotas",
    "Live sessions",
    "Approvals",
    "Add to Claude",
    "Sign-in",
    "Audit trail",
    "Usage",
    "Tool changes",
    "Use with the API",
    "API tokens",
]
AUDITOR_NAV = ["Connectors", "Audit trail", "Usage", "Tool changes", "API tokens"]
# An auditor's only buttons: reading the trail, switching organization, their own session, and
# dismissing a message ("×").
READING_BUTTONS = {"Filter", "Switch", "Sign out", "×"}


def switch_to(page: Page, name: str) -> None:
    page.get_by_label("Organization").select_option(label=name)
    page.get_by_role("button", name="Switch").click()


def assert_nothing_to_change(page: Page) -> None:
    buttons = {" ".join(b.split()) for b in page.get_by_role("button").all_inner_texts()}
    assert buttons <= READING_BUTTONS, f"an auditor is offered {buttons - READING_BUTTONS}"
    for action in ("Add connector", "Check all", "Edit settings", "Remove", "Send invitation"):
        expect(page.get_by_role("link", name=action)).to_have_count(0)
        expect(page.get_by_role("button", name=action)).to_have_count(0)


def test_person_switches_from_the_organization_they_own_to_the_one_they_audit(browse):
    acme = world.organization(slug="acme", name="Acme", plan="team", owner="pat@both.test")
    world.connector(acme, "Wiki")
    globex = world.organization(
        slug="globex", name="Globex", plan="team", owner="owner@globex.test"
    )
    world.connector(globex, "Tracker")
    world.person(globex, "pat@both.test", world.Role.AUDITOR)

    tab = browse()
    page = tab.page
    nav = page.get_by_role("navigation", name="Main")
    switcher = page.get_by_label("Organization")

    # Organizations come in the order of their names: Acme first, where Pat is an owner.
    tab.sign_in("pat@both.test")
    expect(page.get_by_role("heading", name="Connectors", exact=True)).to_be_visible()
    expect(switcher).to_have_value("acme")
    expect(switcher.get_by_role("option")).to_have_text(["Acme", "Globex"])
    expect(nav).to_contain_text("Your role: Owner")
    expect(nav.get_by_role("listitem")).to_have_text(OWNER_NAV)
    expect(page.get_by_role("link", name="Add connector").first).to_be_visible()
    expect(page.get_by_role("button", name="Check all")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Wiki")).to_be_visible()
    expect(page.get_by_text("Tracker")).to_have_count(0)

    switch_to(page, "Globex")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(switcher).to_have_value("globex")
    expect(nav).to_contain_text("Your role: Auditor")
    expect(nav.get_by_role("listitem")).to_have_text(AUDITOR_NAV)
    expect(nav.get_by_role("link", name="My connectors")).to_have_count(0)
    expect(page.locator("#plan-usage")).to_have_count(0)
    assert_nothing_to_change(page)
    tab.check()

    nav.get_by_role("link", name="Connectors", exact=True).click()
    expect(page.get_by_text("You can read them; only owners change them.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Tracker")).to_be_visible()
    expect(page.get_by_text("Wiki")).to_have_count(0)
    assert_nothing_to_change(page)
    tab.check()

    # Where Pat owns, Members is there; here, typed into the address bar, it says why not.
    tab.visit("/orgs/globex/members/")
    expect(page.get_by_role("heading", name="You cannot do this here")).to_be_visible()
    expect(page.get_by_text("your role in Globex is auditor")).to_be_visible()

    switch_to(page, "Acme")
    expect(page.get_by_role("heading", name="Connectors", exact=True)).to_be_visible()
    expect(switcher).to_have_value("acme")
    tab.check()
    nav.get_by_role("link", name="Members").click()
    people = page.get_by_role("region", name="People in Acme")
    expect(people.get_by_role("row").filter(has_text="pat@both.test")).to_contain_text("(you)")
    expect(page.get_by_text("owner@globex.test")).to_have_count(0)
    tab.check()
