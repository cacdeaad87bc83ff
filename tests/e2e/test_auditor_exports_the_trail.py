"""An auditor filters the audit trail and downloads it as CSV: the file holds exactly the rows
the filtered page shows."""

import csv
import io

import pytest
from playwright.sync_api import expect

from orgconnectors.connectors.services import connector_update
from orgconnectors.core.actor import Actor
from tests.e2e import world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_auditor_downloads_a_csv_of_the_filtered_trail(browse):
    org = world.organization(slug="acme", name="Acme", plan="team", owner="owner@acme.test")
    owner = world.owner_of(org)
    wiki = world.connector(org, "Wiki")
    tracker = world.connector(org, "Tracker")
    connector_update(connector=wiki, actor=Actor(user=owner.user), name="Company wiki")
    connector_update(connector=tracker, actor=Actor(user=owner.user), name="Issue tracker")
    world.connect(world.person(org, "member@acme.test"), wiki)
    world.person(org, "auditor@acme.test", world.Role.AUDITOR)

    tab = browse()
    page = tab.page
    tab.sign_in("auditor@acme.test")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    page.get_by_label("Action").select_option("connector.updated")
    page.get_by_role("button", name="Filter").click()
    events = page.get_by_role("table").get_by_role("row")
    expect(events).to_have_count(3)  # the header and two updates
    # Each event links to its detail page, /orgs/acme/audit/<id>/: the ids the page shows.
    shown = [
        events.nth(i).get_by_role("link").get_attribute("href").rstrip("/").rsplit("/", 1)[1]
        for i in (1, 2)
    ]
    targets = [events.nth(i).get_by_role("cell").nth(4).inner_text() for i in (1, 2)]
    tab.check()

    with page.expect_download() as started:
        page.get_by_role("link", name="CSV").click()
    download = started.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))

    assert [row["id"] for row in rows] == shown
    assert [row["action"] for row in rows] == ["connector.updated", "connector.updated"]
    assert all(row["actor"] == "owner@acme.test" for row in rows)
    for row, target in zip(rows, targets, strict=True):
        assert target.startswith(row["target"])
