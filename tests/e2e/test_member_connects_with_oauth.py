"""A member on the Free plan connects an OAuth connector by consenting on its authorization
server's page (the demo's, built on the MCP SDK's auth routes), is refused a second connection
with the reason, and swaps the OAuth one for another; the authorization server then no longer
honours the member's tokens."""

import pytest
from playwright.sync_api import expect

from orgconnectors.connectors.models import Connector
from orgconnectors.oauth.models import OAuthCredential
from tests.e2e import world
from tests.e2e.peers import task_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_member_consents_hits_the_free_limit_and_swaps(
    browse,
    live_server,
    settings,
    task_server,  # noqa: F811
):
    base_url, provider = task_server
    # The redirect URI the dashboard registers and sends is on the live server.
    settings.ORGCONNECTORS_BASE_URL = live_server.url
    org = world.organization(slug="solo", name="Solo", plan="team", owner="owner@solo.test")
    world.connector(org, "Tasks", url=f"{base_url}/mcp", auth=Connector.Auth.OAUTH)
    world.connector(org, "Wiki")
    world.person(org, "member@solo.test")
    world.change_plan(org, "free")
    tab = browse()
    page = tab.page

    tab.sign_in("member@solo.test")
    expect(page.get_by_text("0 of 1 connection in use on the Free plan")).to_be_visible()

    # One click: the dashboard registers itself with the authorization server and sends the
    # member to its consent page.
    page.get_by_role("button", name="Connect Tasks").click()
    expect(page.get_by_role("heading", name="Allow access to your demo tasks?")).to_be_visible()
    assert page.url.startswith(base_url)
    expect(page.get_by_text("tasks:read")).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    expect(page.get_by_role("heading", name="My connectors")).to_be_visible()
    expect(page.get_by_text("Tasks is connected.")).to_be_visible()
    expect(page.get_by_text("1 of 1 connection in use on the Free plan")).to_be_visible()
    expect(page.locator("#plan-usage")).to_have_text("1 of 1 connection in use")
    expect(page.get_by_role("button", name="Disconnect Tasks")).to_be_visible()
    tab.check()
    assert len(provider.access) == 1 and len(provider.refresh) == 1

    page.get_by_role("button", name="Connect Wiki").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("The Free plan allows 1 enabled connection at a time")
    expect(refusal).to_contain_text("you already have 1: Tasks")
    expect(refusal).to_contain_text("Disconnect one before connecting Wiki")
    tab.check()

    page.get_by_role("button", name="Disconnect Tasks").click()
    expect(page.get_by_text("Tasks is disconnected.")).to_be_visible()
    expect(page.get_by_text("0 of 1 connection in use on the Free plan")).to_be_visible()
    expect(page.locator("#plan-usage")).to_have_text("0 of 1 connection in use")
    tab.check()

    page.get_by_role("button", name="Connect Wiki").click()
    expect(page.get_by_text("Wiki is connected.")).to_be_visible()
    expect(page.get_by_role("button", name="Connect Tasks")).to_be_visible()
    expect(page.get_by_role("button", name="Disconnect Wiki")).to_be_visible()
    tab.check()

    # Disconnecting forgot the member's tokens here, and a worker revoked them at the server
    # (the page did not wait for it).
    assert not OAuthCredential.objects.filter(connection__connector__name="Tasks").exists()
    assert provider.all_revoked.wait(timeout=15), "the worker never revoked the member's tokens"
