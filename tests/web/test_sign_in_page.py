"""The owners' Sign-in page: SCIM tokens shown once, revoked, and what was provisioned."""

import pytest
from django.test import Client

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.identity.group_roles import group_role_set
from orgconnectors.identity.models import ScimToken
from orgconnectors.identity.scim_tokens import scim_token_create
from orgconnectors.identity.services import ScimTeam, scim_group_create
from tests.scim.helpers import Scim, provisioned

pytestmark = pytest.mark.django_db

PAGE = "/orgs/acme/sign-in/"


def _browser(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_an_owner_creates_a_scim_token_that_is_shown_once(owner, org):
    browser = _browser(owner)

    created = browser.post(PAGE, {"name": "Okta"})

    assert created.status_code == 200
    secret = created.context["new_token"]
    assert secret.startswith("ocscim_")
    assert "/scim/v2/acme/" in created.content.decode()
    assert Scim(org, secret).request("GET", "Users").status_code == 200
    assert secret not in browser.get(PAGE).content.decode()
    assert created["Cache-Control"].startswith("max-age=0")


def test_an_unnamed_token_is_refused_with_a_sentence(owner):
    refused = _browser(owner).post(PAGE, {"name": " "})

    assert refused.status_code == 400
    assert "Name the token" in refused.content.decode()
    assert not ScimToken.objects.exists()


def test_an_owner_revokes_a_scim_token(owner, org):
    token, secret = scim_token_create(organization=org, name="Okta", actor=Actor.system("t"))

    response = _browser(owner).post(PAGE, {"revoke": token.pk})

    assert response.status_code == 302
    assert Scim(org, secret).request("GET", "Users").status_code == 401


def test_another_organizations_token_cannot_be_revoked_from_here(owner, other_org):
    token, _secret = scim_token_create(organization=other_org, name="G", actor=Actor.system("t"))

    response = _browser(owner).post(PAGE, {"revoke": token.pk})

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_page_lists_provisioned_people(owner, member):
    provisioned(member)

    page = _browser(owner).get(PAGE).content.decode()

    assert "member@acme.test" in page
    assert "Active" in page


def _group(org, members, name="Admins"):
    return scim_group_create(
        organization=org,
        team=ScimTeam(
            display_name=name,
            external_id="",
            member_ids=[str(m.pk) for m in members],
            document={},
        ),
        actor=Actor.system("t"),
    )


def test_mapping_a_group_to_a_role_is_previewed_then_applied(owner, member, org):
    group = _group(org, [provisioned(member)])
    browser = _browser(owner)

    preview = browser.get(PAGE, {"group": str(group.pk), "role": "owner"})

    assert preview.context["preview"]["changes"] == [
        {"email": "member@acme.test", "before": "member", "after": "owner"}
    ]
    member.refresh_from_db()
    assert member.role == "member"

    saved = browser.post(PAGE, {"group": str(group.pk), "role": "owner"})

    assert saved.status_code == 302
    member.refresh_from_db()
    assert member.role == "owner"
    assert AuditEvent.objects.filter(action="scim.group_role_changed").count() == 1


def test_a_mapped_role_is_applied_on_scim_changes_and_left_on_leaving(owner, member, org):
    group = _group(org, [], name="Auditors")
    group_role_set(group=group, role="auditor", actor=Actor.system("t"))
    scim_member = provisioned(member)
    scim = Scim(org)
    op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

    scim.request(
        "PATCH",
        f"Groups/{group.pk}",
        {
            "schemas": [op],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": str(scim_member.pk)}]}
            ],
        },
    )
    member.refresh_from_db()
    assert member.role == "auditor"

    scim.request(
        "PATCH",
        f"Groups/{group.pk}",
        {
            "schemas": [op],
            "Operations": [{"op": "remove", "path": f'members[value eq "{scim_member.pk}"]'}],
        },
    )
    member.refresh_from_db()
    assert member.role == "member"


def test_another_organizations_group_is_a_404_here(owner, other_org):
    group = _group(other_org, [], name="Globex")

    assert _browser(owner).get(PAGE, {"group": str(group.pk), "role": "owner"}).status_code == 404
    assert _browser(owner).post(PAGE, {"group": str(group.pk), "role": "owner"}).status_code == 404
