import re

import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from tests.factories import UserFactory

AUDIT = reverse("audit_list", args=["acme"])
TOKENS = reverse("api_token_list", args=["acme"])


def signed_in(membership_or_user) -> Client:
    client = Client()
    client.force_login(getattr(membership_or_user, "user", membership_or_user))
    return client


def record(organization, action: str, when: str, target: str = "Wiki", changes=None):
    with time_machine.travel(when, tick=False), transaction.atomic():
        return audit_record(
            organization=organization,
            actor=Actor(label="owner@acme.test"),
            action=action,
            target=AuditTarget(type="connector", label=target),
            changes=changes or {},
        )


# Landing


def test_someone_in_no_organization_is_told_how_to_join_one(db):
    response = signed_in(UserFactory(email="lonely@example.com")).get(reverse("home"))

    assert response.status_code == 200
    assert "You are not in any organization" in response.content.decode()


def test_each_role_lands_on_its_own_page(owner, member, auditor):
    landing = {
        owner: "connector_list",
        member: "my_connectors",
        auditor: "audit_list",
    }
    for membership, page in landing.items():
        response = signed_in(membership).get(reverse("home"), follow=True)
        assert response.redirect_chain[-1] == (reverse(page, args=["acme"]), 302)


# The audit trail


def test_the_audit_trail_filters_and_pages_back_in_time(auditor, org):
    for day in range(1, 60):
        record(org, "connector.registered", "2025-01-01 09:00Z", target=f"Connector {day}")
    record(org, "connector.removed", "2025-03-01 09:00Z", target="Gone")
    client = signed_in(auditor)

    filtered = client.get(AUDIT, {"action": "connector.removed"}).content.decode()
    first = client.get(AUDIT).content.decode()
    older_link = re.search(r'href="\?(cursor=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(AUDIT + "?" + older_link).content.decode()

    assert "Gone" in filtered
    assert "connector.registered</code>" not in filtered
    assert first.count("connector.registered</code>") == 49
    assert second.count("connector.registered</code>") == 10
    assert "That is every event." in second


def test_a_damaged_link_to_older_events_says_to_start_again(auditor, org):
    record(org, "connector.registered", "2025-01-01 09:00Z")

    response = signed_in(auditor).get(AUDIT, {"cursor": "damaged"})

    assert response.status_code == 400
    assert "start again from the newest events" in response.content.decode()


def test_dates_in_the_wrong_order_are_explained_next_to_the_end_date(auditor, org):
    response = signed_in(auditor).get(AUDIT, {"date_from": "2025-03-02", "date_to": "2025-03-01"})

    assert response.status_code == 400
    html = response.content.decode()
    assert (
        html.index('<label for="id_date_to"')
        < html.index("The end date is before the start date; swap them.")
        < html.index('name="date_to"')
    )


def test_the_last_day_a_date_can_name_is_a_valid_end_date(auditor, org):
    record(org, "connector.registered", "2025-01-01 09:00Z", target="Wiki")

    response = signed_in(auditor).get(AUDIT, {"date_to": "9999-12-31"})

    assert response.status_code == 200
    assert "connector.registered</code>" in response.content.decode()


def test_an_event_shows_what_changed(auditor, org):
    event = record(
        org,
        "connector.updated",
        "2025-01-01 09:00Z",
        changes={"name": {"before": "Wiki", "after": "Docs"}, "oauth_client_secret": {
            "before": "[redacted]", "after": "[redacted]"}},
    )  # fmt: skip

    html = signed_in(auditor).get(reverse("audit_detail", args=["acme", event.pk])).content
    html = html.decode()

    assert "<code>Wiki</code>" in html and "<code>Docs</code>" in html
    assert "<code>[redacted]</code>" in html


def test_auditors_read_each_action_by_its_registered_label(auditor, org):
    event = record(org, "oauth.step_up_refused", "2025-01-01 09:00Z")
    browser = signed_in(auditor)

    listed = browser.get(AUDIT).content.decode()
    shown = browser.get(reverse("audit_detail", args=["acme", event.pk])).content.decode()

    assert "More access refused<br><code>oauth.step_up_refused</code>" in listed
    assert '<option value="oauth.step_up_refused">More access refused</option>' in listed
    assert "<h1>More access refused <code>oauth.step_up_refused</code></h1>" in shown


# API tokens


def test_a_new_token_is_shown_once_and_works(member):
    client = signed_in(member)

    created = client.post(
        TOKENS, {"name": "Deploy bot", "expires_in_days": "30", "scopes": ["read", "connections"]}
    )
    token = re.search(r'value="(oc_[^"]+)"', created.content.decode()).group(1)
    again = client.get(TOKENS)

    assert created.status_code == 200
    assert created["Cache-Control"].startswith("max-age=0")
    assert token not in again.content.decode()
    assert "Deploy bot" in again.content.decode()
    api = Client().get("/api/v1/orgs/acme", headers={"Authorization": f"Bearer {token}"})
    assert api.json()["role"] == "member"


def test_a_token_form_without_a_name_says_what_to_write(member):
    response = signed_in(member).post(TOKENS, {"name": ""})

    assert response.status_code == 400
    html = response.content.decode()
    assert (
        html.index('<label for="id_name"')
        < html.index(escape("Name the token after the app that will use it."))
        < html.index('name="name"')
    )
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it_at_once(member, actor):
    api_token, token = api_token_create(membership=member, name="CI", actor=actor(member))

    response = signed_in(member).post(
        reverse("api_token_revoke", args=["acme", api_token.pk]), follow=True
    )

    assert "The token “CI” no longer works." in response.content.decode()
    api = Client().get("/api/v1/orgs/acme", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_nobody_can_revoke_someone_elses_token(owner, member, actor):
    members_token, _token = api_token_create(membership=member, name="CI", actor=actor(member))

    response = signed_in(owner).post(reverse("api_token_revoke", args=["acme", members_token.pk]))

    assert response.status_code == 404
    members_token.refresh_from_db()
    assert members_token.revoked_at is None


def test_the_token_page_lists_only_the_callers_own_tokens(owner, member, actor):
    api_token_create(membership=member, name="Member script", actor=actor(member))

    html = signed_in(owner).get(TOKENS).content.decode()

    assert "Member script" not in html
