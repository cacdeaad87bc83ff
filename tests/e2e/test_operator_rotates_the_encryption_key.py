"""An operator re-encrypts every stored secret from the Django admin: the admin sends them to the
dashboard's sign-in page (allauth's: rate limits, second factor), then they open the key rotation
runs, are told what will be rewritten and confirm, then follow the run (which a Celery worker
does) on its page until it announces the end, without a reload."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.services import connector_register
from orgconnectors.core.actor import Actor
from orgconnectors.encryption import decrypt
from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_operator_reencrypts_every_secret_and_follows_the_run(browse):
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    for name in ("Wiki", "Tracker"):
        connector_register(
            organization=org,
            actor=Actor(user=world.owner_of(org).user),
            name=name,
            url=f"https://{name.lower()}.acme.test/mcp",
            auth=Connector.Auth.OAUTH,
            oauth_client_id=f"{name.lower()}-client",
            oauth_client_secret=f"{name.lower()}-client-secret",
        )
    get_user_model().objects.create_superuser(
        email="ops@orgconnectors.test", password=world.PASSWORD
    )

    tab = browse()
    page = tab.page
    tab.visit("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fadmin%2F$"))
    page.get_by_label("Email").fill("ops@orgconnectors.test")
    page.get_by_label("Password").fill(world.PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    tab.check()

    page.get_by_role("link", name="Key rotations").click()
    expect(page.get_by_text("0 key rotations")).to_be_visible()
    tab.check()
    page.get_by_role("link", name="Re-encrypt all secrets").click()
    expect(page.get_by_text("Every stored secret (2 rows now)")).to_be_visible()
    expect(
        page.get_by_role("listitem").filter(has_text="Connector client secrets: 2")
    ).to_be_visible()
    tab.check()

    page.get_by_role("button", name="Re-encrypt all secrets").click()
    expect(page.get_by_role("heading", name="Key rotation #", exact=False)).to_be_visible()
    tab.check()
    progress = page.locator("#key-rotation-progress")
    expect(progress).to_contain_text("Done.")
    expect(progress).to_contain_text("2 of 2 secrets re-encrypted.")
    expect(progress.get_by_role("row").filter(has_text="Connector client secrets")).to_contain_text(
        "2 of 2"
    )
    expect(page.locator("#messages .toast")).to_have_text(
        "The key rotation is done: every secret is encrypted under the first key."
    )
    tab.check()
    # Rewritten, not lost: each connector still has the secret its owner entered.
    secrets = {c.name: decrypt(c.oauth_client_secret_encrypted) for c in Connector.objects.all()}
    assert secrets == {"Wiki": "wiki-client-secret", "Tracker": "tracker-client-secret"}
