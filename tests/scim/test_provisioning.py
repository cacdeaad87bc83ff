"""An identity provider's day, spoken with scim2-client over HTTP: joiners, filters, pages,
groups and leavers."""

import pytest
from scim2_models import Email, Group, GroupMember, PatchOp, PatchOperation, User

from orgconnectors.audit.models import AuditEvent
from orgconnectors.identity.models import ScimGroup, ScimUser
from orgconnectors.organizations.models import Membership

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _person(name: str) -> User:
    return User(
        user_name=f"{name}@acme.example.com",
        emails=[Email(value=f"{name}@acme.example.com", primary=True)],
        active=True,
    )


def test_a_provisioned_person_becomes_a_member_of_the_organization(scim_client, org):
    created = scim_client.create(_person("ada"))

    assert created.id
    assert created.meta.location.endswith(f"/scim/v2/acme/Users/{created.id}")
    membership = Membership.objects.get(organization=org, user__email="ada@acme.example.com")
    assert membership.role == Membership.Role.MEMBER
    assert AuditEvent.objects.filter(action="scim.user_provisioned").count() == 1
    assert AuditEvent.objects.filter(action="membership.added").count() == 1


def test_a_user_name_taken_in_the_organization_is_a_409(scim_client):
    scim_client.create(_person("ada"))

    conflict = scim_client.create(_person("ada"), raise_scim_errors=False)

    assert conflict.status == 409
    assert conflict.scim_type == "uniqueness"


def test_people_are_found_by_user_name_and_by_email(scim_client):
    for name in ("ada", "grace", "alan"):
        scim_client.create(_person(name))

    by_name = scim_client.query(
        User, query_parameters={"filter": 'userName eq "grace@acme.example.com"'}
    )
    by_email = scim_client.query(User, query_parameters={"filter": 'emails.value co "alan@"'})
    by_complex = scim_client.query(
        User, query_parameters={"filter": 'emails[value eq "ada@acme.example.com"]'}
    )

    assert [u.user_name for u in by_name.resources] == ["grace@acme.example.com"]
    assert [u.user_name for u in by_email.resources] == ["alan@acme.example.com"]
    assert [u.user_name for u in by_complex.resources] == ["ada@acme.example.com"]


def test_people_are_listed_a_page_at_a_time(scim_client):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        scim_client.create(_person(name))

    second = scim_client.query(
        User, query_parameters={"startIndex": 3, "count": 2, "sortBy": "userName"}
    )

    assert second.total_results == 5
    assert second.start_index == 3
    assert [u.user_name for u in second.resources] == ["a3@acme.example.com", "a4@acme.example.com"]


def test_a_group_gains_and_loses_members_by_patch(scim_client):
    ada = scim_client.create(_person("ada"))
    grace = scim_client.create(_person("grace"))
    group = scim_client.create(
        Group(display_name="Engineering", members=[GroupMember(value=ada.id)])
    )

    scim_client.modify(
        Group,
        group.id,
        PatchOp[Group](
            operations=[
                PatchOperation(op="add", path="members", value=[{"value": grace.id}]),
                PatchOperation(op="remove", path=f'members[value eq "{ada.id}"]'),
            ]
        ),
    )

    row = ScimGroup.objects.get(pk=group.id)
    assert [m.user_name for m in row.members.all()] == ["grace@acme.example.com"]
    read = scim_client.query(User, grace.id)
    assert [g.display for g in read.groups] == ["Engineering"]
    event = AuditEvent.objects.filter(action="scim.group_updated").get()
    assert event.changes["members"] == {"added": [grace.id], "removed": [ada.id]}


def test_a_group_cannot_name_another_organizations_user(scim_client, other_org):
    foreign = ScimUser.objects.create(organization=other_org, user_name="x@globex.test")

    refused = scim_client.create(
        Group(display_name="Spies", members=[GroupMember(value=str(foreign.pk))]),
        raise_scim_errors=False,
    )

    assert refused.status == 400
    assert not ScimGroup.objects.exists()


def test_a_replacement_with_active_false_ends_the_membership(scim_client, org):
    ada = scim_client.create(_person("ada"))
    ada.active = False

    replaced = scim_client.replace(ada)

    assert replaced.active is False
    ada_in_acme = Membership.objects.filter(organization=org, user__email="ada@acme.example.com")
    assert not ada_in_acme.exists()
    assert scim_client.query(User, ada.id).active is False


def test_another_organizations_user_is_a_404(scim_client, other_org):
    foreign = ScimUser.objects.create(organization=other_org, user_name="x@globex.test")

    missing = scim_client.query(User, str(foreign.pk), raise_scim_errors=False)

    assert missing.status == 404
