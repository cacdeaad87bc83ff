"""An organization requires two-factor authentication of its owners and auditors: an owner without
it who signs in is taken to set up an authenticator app, and only then reaches the organization."""

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from playwright.sync_api import expect

from orgconnectors.organizations.organization_settings import organization_settings_update
from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _current_code(secret: str) -> str:
    # What the person's authenticator app shows now.
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_owner_is_taken_to_set_up_two_factor_before_the_organization(browse):
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    organization_settings_update(organization=org, require_two_factor=True, actor=world.SETUP)

    tab = browse()
    page = tab.page
    tab.sign_in("owner@acme.test")
    expect(page.get_by_text("Acme requires two-factor authentication")).to_be_visible()
    # allauth asks for the password again before a second factor is added.
    page.get_by_placeholder("Password").fill(world.PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    tab.check()

    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(_current_code(secret))
    page.get_by_role("button", name="Activate").click()
    tab.check()

    page.goto("/orgs/acme/")
    expect(page.get_by_role("heading", name="Connectors", exact=True)).to_be_visible()
    tab.check()
