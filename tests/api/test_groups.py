"""Groups through the API: owners read both kinds, and make and change dashboard groups with
the same services as the Groups page."""

import pytest

from orgconnectors.core.actor import Actor
from orgconnectors.identity.models import ScimGroup
from orgconnectors.identity.services import ScimTeam, scim_group_create
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def test_an_owner_makes_a_group_adds_and_removes_a_member(owner, member, actor):
    client = token_client(owner, actor=actor)

    made = client.post("/api/v1/orgs/acme/groups", {"display_name": "Support"})
    group_id = made.json()["id"]
    added = client.post(f"/api/v1/orgs/acme/groups/{group_id}/members", {"member_ids": [member.pk]})
    removed = client.send("DELETE", f"/api/v1/orgs/acme/groups/{group_id}/members/{member.pk}")

    assert made.status_code == 201, made.json()
    assert made.json()["source"] == "dashboard"
    assert added.status_code == 200, added.json()
    assert added.json()["member_ids"] == [member.pk]
    assert added.json()["people"] == [{"email": member.user.email}]
    assert removed.status_code == 200
    assert removed.json()["member_ids"] == []


def test_a_scim_group_is_listed_but_not_changed_through_the_api(org, owner, actor):
    scim_group = scim_group_create(
        organization=org,
        team=ScimTeam(display_name="Engineering", external_id="", member_ids=[], document={}),
        actor=Actor.system("test"),
    )
    client = token_client(owner, actor=actor)

    listed = client.get("/api/v1/orgs/acme/groups")
    renamed = client.send(
        "PATCH", f"/api/v1/orgs/acme/groups/{scim_group.pk}", {"display_name": "X"}
    )
    deleted = client.send("DELETE", f"/api/v1/orgs/acme/groups/{scim_group.pk}")

    assert [(g["display_name"], g["source"]) for g in listed.json()] == [("Engineering", "scim")]
    assert renamed.status_code == 400
    assert "managed by your identity provider" in renamed.json()["detail"]
    assert deleted.status_code == 400
    assert ScimGroup.objects.get(pk=scim_group.pk).display_name == "Engineering"


def test_a_group_id_that_is_not_one_is_a_404(owner, actor):
    response = token_client(owner, actor=actor).get("/api/v1/orgs/acme/groups/not-a-uuid")

    assert response.status_code == 404
