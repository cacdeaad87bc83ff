"""An owner reads who would lose what under a lower connection limit and asks the operator for
it (plans are the operator's); the operator applies it through the operator API; a member then
finds the suspended connections explained on My connectors."""

import httpx
import pytest
from playwright.sync_api import expect

from orgconnectors.organizations.models import PlanChangeRequest
from orgconnectors.organizations.operator_tokens import operator_token_create
from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_owner_asks_the_operator_to_downgrade_and_the_member_sees_why(browse, live_server):
    org = world.organization(
        slug="globex", name="Globex", plan="enterprise", limit=5, owner="owner@globex.test"
    )
    wiki, tracker, chat = (world.connector(org, name) for name in ("Wiki", "Tracker", "Chat"))
    alice = world.person(org, "alice@globex.test")
    bob = world.person(org, "bob@globex.test")
    world.connect(alice, wiki, tracker, chat)  # Chat is her most recent: she keeps it
    world.connect(bob, wiki)

    owner = browse()
    page = owner.page
    owner.sign_in("owner@globex.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Plan").click()
    expect(page.get_by_role("heading", name="Plan", exact=True)).to_be_visible()
    expect(page.get_by_text("each member may have 5 connections")).to_be_visible()
    owner.check()

    page.get_by_label("Enterprise").check()
    page.get_by_label("Your own limit of connections per member").fill("1")
    page.get_by_role("button", name="Preview the change").click()
    expect(
        page.get_by_role("heading", name="Change the limit to 1 connection per member?")
    ).to_be_visible()
    expect(
        page.get_by_text("Globex stays on Enterprise, with 1 connection per member instead of 5.")
    ).to_be_visible()
    expect(page.get_by_text("2 connections of 1 member will be suspended")).to_be_visible()
    alice_row = page.get_by_role("row").filter(has_text="alice@globex.test")
    expect(alice_row.get_by_role("cell").nth(0)).to_have_text("Chat")
    for suspended in ("Wiki", "Tracker"):
        expect(alice_row.get_by_role("cell").nth(1)).to_contain_text(suspended)
    expect(page.get_by_role("row").filter(has_text="bob@globex.test")).to_have_count(0)
    owner.check()

    expect(
        page.get_by_text("Plans and limits are set by the operator of this deployment.").last
    ).to_be_visible()
    page.get_by_label("A word for the operator (optional)").fill("We are trimming costs.")
    page.get_by_role("button", name="Ask for 1 connection per member").click()
    expect(
        page.get_by_text(
            "Your request for Enterprise was sent to the operator, who changes plans. "
            "Nothing changes until they apply it."
        )
    ).to_be_visible()
    asked = "You asked for Enterprise with 1 connection per member"
    expect(page.get_by_text(asked)).to_be_visible()
    expect(page.get_by_text("each member may have 5 connections")).to_be_visible()
    owner.check()

    # The operator grants it from their own tooling, with the deployment's token.
    request = PlanChangeRequest.objects.get(organization=org)
    assert (request.connection_limit, request.message) == (1, "We are trimming costs.")
    _operator_token, token = operator_token_create(name="billing system")
    applied = httpx.put(
        f"{live_server.url}/api/v1/operator/orgs/globex/plan",
        json={"plan": "enterprise", "connection_limit": 1},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["suspended"] == [
        {"member": "alice@globex.test", "connectors": ["Tracker", "Wiki"]}
    ]
    page.reload()
    expect(page.get_by_text("each member may have 1 connection")).to_be_visible()
    expect(page.get_by_text(asked)).to_have_count(0)
    owner.check()

    member = browse()
    page = member.page
    member.sign_in("alice@globex.test")
    expect(page.get_by_role("heading", name="My connectors")).to_be_visible()
    expect(page.get_by_text("1 of 1 connection in use on the Enterprise plan")).to_be_visible()
    for name in ("Wiki", "Tracker"):
        card = page.get_by_role("listitem").filter(
            has=page.get_by_role("heading", name=name, exact=True)
        )
        expect(card).to_contain_text("Suspended by a plan change")
        expect(card).to_contain_text(
            "Suspended when the organization moved to the Enterprise plan, which allows "
            "1 connection at a time. Disconnect another to use this one again."
        )
        expect(card.get_by_role("button", name=f"Connect again {name}")).to_be_visible()
    chat_card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="Chat", exact=True)
    )
    expect(chat_card).to_contain_text("Connected")
    member.check()
