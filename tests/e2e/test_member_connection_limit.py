"""A member on the Free plan connects one connector, is told why a second one is refused, and
swaps them."""

import pytest
from playwright.sync_api import expect

from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_member_hits_the_free_limit_and_swaps_connections(browse):
    org = world.organization(slug="solo", name="Solo", plan="team", owner="owner@solo.test")
    world.connector(org, "Wiki")
    world.connector(org, "Tracker")
    world.person(org, "member@solo.test")
    world.change_plan(org, "free")
    tab = browse()
    page = tab.page

    tab.sign_in("member@solo.test")
    expect(page.get_by_role("heading", name="My connectors")).to_be_visible()
    expect(page.get_by_text("0 of 1 connection in use on the Free plan")).to_be_visible()

    page.get_by_role("button", name="Connect Wiki").click()
    expect(page.get_by_text("Wiki is connected.")).to_be_visible()
    expect(page.get_by_text("1 of 1 connection in use on the Free plan")).to_be_visible()
    expect(page.locator("#plan-usage")).to_have_text("1 of 1 connection in use")
    tab.check()

    page.get_by_role("button", name="Connect Tracker").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("The Free plan allows 1 enabled connection at a time")
    expect(refusal).to_contain_text("you already have 1: Wiki")
    expect(refusal).to_contain_text("Disconnect one before connecting Tracker")
    tab.check()

    page.get_by_role("button", name="Disconnect Wiki").click()
    expect(page.get_by_text("Wiki is disconnected.")).to_be_visible()
    expect(page.get_by_text("0 of 1 connection in use on the Free plan")).to_be_visible()
    expect(page.locator("#plan-usage")).to_have_text("0 of 1 connection in use")
    tab.check()

    page.get_by_role("button", name="Connect Tracker").click()
    expect(page.get_by_text("Tracker is connected.")).to_be_visible()
    expect(page.get_by_role("button", name="Disconnect Tracker")).to_be_visible()
    expect(page.get_by_role("button", name="Connect Wiki")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    tab.check()
