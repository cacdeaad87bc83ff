"""An owner makes a group on the Groups page, puts one member in it and lets only that group
connect the Wiki: the member in the group finds the Wiki on My connectors, the other does not."""

import pytest
from playwright.sync_api import expect

from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_owner_limits_a_connector_to_a_group_made_in_the_dashboard(browse):
    acme = world.organization(slug="acme", name="Acme", plan="team", owner="olive@acme.test")
    world.connector(acme, "Wiki")
    world.person(acme, "sam@acme.test")
    world.person(acme, "lee@acme.test")

    owner = browse()
    page = owner.page
    owner.sign_in("olive@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    expect(page.get_by_role("heading", name="Groups", exact=True)).to_be_visible()
    owner.check()
    page.get_by_label("Name", exact=True).fill("Support")
    page.get_by_role("button", name="Make group").click()
    expect(page.get_by_text("The group “Support” is made")).to_be_visible()
    owner.check()
    page.get_by_label("Members to add or remove").select_option(label="sam@acme.test")
    page.get_by_role("button", name="Add to Support").click()
    expect(page.get_by_role("listitem").filter(has_text="sam@acme.test")).to_be_visible()
    owner.check()

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Connectors", exact=True
    ).click()
    owner.check()
    page.get_by_role("link", name="Wiki").first.click()
    owner.check()
    page.get_by_label("Only the people of these groups").check()
    page.get_by_label("Support").check()
    page.get_by_role("button", name="Save who may connect").click()
    expect(page.get_by_text("Who may connect Wiki is saved.")).to_be_visible()
    owner.check()

    sam = browse()
    sam.sign_in("sam@acme.test")
    sam.visit("/orgs/acme/my-connectors/")
    expect(sam.page.get_by_text("Wiki").first).to_be_visible()
    lee = browse()
    lee.sign_in("lee@acme.test")
    lee.visit("/orgs/acme/my-connectors/")
    expect(lee.page.get_by_role("heading", name="My connectors")).to_be_visible()
    expect(lee.page.get_by_text("Wiki")).to_have_count(0)
