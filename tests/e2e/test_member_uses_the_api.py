"""A member with an API token copies the configuration the "Use with the API" page shows, and the
JSON API hands their app the same one."""

import json

import pytest
from playwright.sync_api import expect

from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_member_copies_the_configuration_the_api_serves(browse):
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    wiki = world.connector(org, "Wiki")
    tracker = world.connector(org, "Tracker")
    world.connect(world.person(org, "member@acme.test"), wiki, tracker)

    tab = browse()
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tab.origin)
    tab.sign_in("member@acme.test")

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Release script")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("Your new token").input_value()
    assert token.startswith("oc_")
    tab.check()

    nav.get_by_role("link", name="Use with the API").click()
    expect(page.get_by_role("heading", name="Use with the API")).to_be_visible()
    page.get_by_role("button", name="Copy mcp_servers and tools").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
    tab.check()

    # What their app does: ask the API with the token, from the browser context.
    answer = page.request.get(
        "/api/v1/orgs/acme/messages-api-config",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status == 200, answer.text()
    served = answer.json()
    assert {s["name"] for s in copied["mcp_servers"]} == {"wiki", "tracker"}
    assert copied["mcp_servers"] == served["mcp_servers"]
    assert copied["tools"] == served["tools"]
