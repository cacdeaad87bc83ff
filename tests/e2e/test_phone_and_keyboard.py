"""At a phone's width the navigation, My connectors and the owners' pages fit the screen; with
the keyboard alone, Tab reaches Connect and Enter connects."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = {"width": 375, "height": 740}
# More than the controls on the page before the first card; fewer than would hide a focus trap.
MAX_TABS = 40


def assert_no_sideways_scrolling(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide on a {widths[1]} px screen"


def assert_on_screen(page: Page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
        f"{locator} is outside the screen: {box}"
    )


def test_my_connectors_on_a_phone_and_with_the_keyboard(browse):
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    world.connector(org, "Company wiki")
    world.connector(org, "Issue tracker with a rather long name")
    world.person(org, "a.member.with.a.long.address@acme.test")
    tab = browse(**PHONE)
    page = tab.page

    tab.sign_in("a.member.with.a.long.address@acme.test")
    expect(page.get_by_role("heading", name="My connectors")).to_be_visible()
    assert_no_sideways_scrolling(page)

    nav = page.get_by_role("navigation", name="Main")
    for name in ("My connectors", "API tokens"):
        assert_on_screen(page, nav.get_by_role("link", name=name))
    nav.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    assert_no_sideways_scrolling(page)
    tab.check()
    nav.get_by_role("link", name="My connectors").click()
    expect(page.get_by_role("heading", name="My connectors")).to_be_visible()
    for name in ("Connect Company wiki", "Connect Issue tracker with a rather long name"):
        assert_on_screen(page, page.get_by_role("button", name=name))
    tab.check()

    connect = page.get_by_role("button", name="Connect Company wiki")
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if connect.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail(f"{MAX_TABS} presses of Tab never reached the Connect button")
    page.keyboard.press("Enter")
    # The answer replaces the list; the keyboard stays where it was, on the same card's button.
    expect(page.get_by_role("button", name="Disconnect Company wiki")).to_be_focused()
    expect(page.get_by_text("Company wiki is connected.")).to_be_visible()
    expect(page.get_by_text("1 of 10 connections in use on the")).to_be_visible()
    assert_no_sideways_scrolling(page)
    tab.check()


def test_owner_pages_fit_a_phone(browse):
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    wiki = world.connector(org, "Company wiki")
    tracker = world.connector(org, "Issue tracker")
    world.connect(world.person(org, "a.member.with.a.long.address@acme.test"), wiki, tracker)
    tab = browse(**PHONE)
    page = tab.page
    nav = page.get_by_role("navigation", name="Main")

    def seen(heading: str, *, exact: bool = True) -> None:
        expect(page.get_by_role("heading", name=heading, exact=exact)).to_be_visible()
        assert_no_sideways_scrolling(page)
        tab.check()

    tab.sign_in("owner@acme.test")
    seen("Connectors")
    page.get_by_role("link", name="Company wiki").click()
    seen("Company wiki", exact=False)  # with its status after the name
    nav.get_by_role("link", name="Connectors", exact=True).click()
    page.get_by_role("link", name="Add connector").click()
    seen("Add a connector")
    nav.get_by_role("link", name="Members").click()
    seen("Members")
    nav.get_by_role("link", name="Plan").click()
    seen("Plan")
    page.get_by_label("Free").check()
    page.get_by_role("button", name="Preview the change").click()
    seen("Move to Free?")
    nav.get_by_role("link", name="Audit trail").click()
    seen("Audit trail")
    page.get_by_role("link", name="details of Member connected").first.click()
    seen("Member connected connection.enabled")
    nav.get_by_role("link", name="API tokens").click()
    seen("API tokens")
