"""An owner invites a person from the Members page; the person opens the link in the email (a
link with a mangled token first, which says what to do instead), chooses a password and lands in
the organization as a member, on My connectors with the plan's usage; the owner's Members page
then lists them, and the link no longer works."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_owner_invites_a_person_who_joins_as_a_member(browse, live_server, settings, eager_celery):
    # The link in the email points at the live server.
    settings.ORGCONNECTORS_BASE_URL = live_server.url
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    world.connector(org, "Wiki")
    limit = org.max_enabled_connections

    owner_tab = browse()
    owner_page = owner_tab.page
    owner_tab.sign_in("owner@acme.test")
    nav = owner_page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Members").click()
    expect(owner_page.get_by_text("No invitations are waiting for an answer.")).to_be_visible()
    owner_tab.check()
    invite = owner_page.get_by_role("region", name="Invite someone")
    invite.get_by_label("Email address").fill("new@acme.test")
    expect(invite.get_by_label("Role")).to_have_value("member")
    invite.get_by_role("button", name="Send invitation").click()
    expect(owner_page.get_by_text("Invitation sent to new@acme.test as member.")).to_be_visible()
    pending = owner_page.get_by_role("region", name="Pending invitations")
    expect(pending.get_by_role("row").filter(has_text="new@acme.test")).to_contain_text("Member")
    owner_tab.check()

    (email,) = mail.outbox
    assert email.to == ["new@acme.test"]
    assert email.subject == "You are invited to Acme on orgconnectors"
    link = re.search(r"Accept the invitation: (\S+)", email.body)[1]

    # A link cut short or mistyped says so, and what to do.
    tab = browse()
    page = tab.page
    tab.visit(link[:-4] + "XXXX")
    expect(page.get_by_role("heading", name="This invitation cannot be used")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "This invitation link is not valid. Check that you copied the whole link, "
        "or ask an owner to invite you again."
    )

    tab.visit(link)
    expect(page.get_by_role("heading", name="Join Acme")).to_be_visible()
    expect(page.get_by_text("This invitation is for new@acme.test, as member.")).to_be_visible()
    page.get_by_label("Choose a password").fill(world.PASSWORD)
    page.get_by_label("Type it again").fill(world.PASSWORD + "!")
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_text("The two passwords differ; type the same one twice.")).to_be_visible()
    expect(page.get_by_label("Type it again")).to_have_attribute("aria-invalid", "true")
    tab.check()
    page.get_by_label("Choose a password").fill(world.PASSWORD)
    page.get_by_label("Type it again").fill(world.PASSWORD)
    page.get_by_role("button", name="Create account and join").click()

    expect(page.get_by_role("heading", name="My connectors")).to_be_visible()
    expect(page.get_by_text("Welcome to Acme.")).to_be_visible()
    expect(page.get_by_text("Your role: Member")).to_be_visible()
    plural = "" if limit == 1 else "s"
    expect(
        page.get_by_text(f"0 of {limit} connection{plural} in use on the Team plan")
    ).to_be_visible()
    expect(page.locator("#plan-usage")).to_have_text(f"0 of {limit} connection{plural} in use")
    expect(page.get_by_role("button", name="Connect Wiki")).to_be_visible()
    tab.check()

    owner_page.reload()
    people = owner_page.get_by_role("region", name="People in Acme")
    expect(people.get_by_role("row").filter(has_text="new@acme.test")).to_be_visible()
    expect(owner_page.get_by_label("Role of new@acme.test")).to_have_value("member")
    expect(owner_page.get_by_text("No invitations are waiting for an answer.")).to_be_visible()
    owner_tab.check()

    # The link worked once.
    tab.visit(link)
    expect(page.get_by_role("alert")).to_contain_text("This invitation has already been used.")
    tab.check()
    page.get_by_role("link", name="Go to your organizations").click()
    expect(page.get_by_role("heading", name="My connectors")).to_be_visible()
    tab.check()


def test_a_person_who_already_has_an_account_signs_in_to_join(
    browse, live_server, settings, eager_celery
):
    """The link offers no second account for an address that has one: its holder signs in, comes
    back to the invitation and joins."""
    settings.ORGCONNECTORS_BASE_URL = live_server.url
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    other = world.organization(slug="globex", name="Globex", plan="team", owner="owner@globex.test")
    world.person(other, "pat@globex.test")
    world.invite(org, "pat@globex.test")

    (email,) = mail.outbox
    link = re.search(r"Accept the invitation: (\S+)", email.body)[1]

    tab = browse()
    page = tab.page
    tab.visit(link)
    expect(page.get_by_role("heading", name="Join Acme")).to_be_visible()
    expect(
        page.get_by_text(
            "An account for pat@globex.test already exists. Sign in as pat@globex.test, "
            "then open the link again to join."
        )
    ).to_be_visible()
    expect(page.get_by_label("Choose a password")).to_have_count(0)
    tab.check()

    page.get_by_role("link", name="Sign in as pat@globex.test").click()
    expect(page.get_by_label("Email")).to_be_visible()
    tab.check()
    page.get_by_label("Email").fill("pat@globex.test")
    page.get_by_label("Password").fill(world.PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Join Acme")).to_be_visible()
    tab.check()
    page.get_by_role("button", name="Accept and join Acme").click()
    expect(page.get_by_text("Welcome to Acme.")).to_be_visible()
    expect(page.get_by_text("Your role: Member")).to_be_visible()
    tab.check()
