import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.errors import LastOwnerError, OrganizationError
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.services import (
    membership_add,
    membership_change_role,
    membership_remove,
    organization_create,
)
from tests.factories import ConnectionFactory, MembershipFactory, UserFactory

Role = Membership.Role


def roles(org):
    return dict(Membership.objects.filter(organization=org).values_list("user__email", "role"))


def test_the_only_owner_cannot_be_demoted(org, owner, member, actor):
    with pytest.raises(LastOwnerError) as refused:
        membership_change_role(membership=owner, role=Role.MEMBER, actor=actor(owner))

    assert refused.value.field == "role"
    assert "owner@acme.test is the only owner of Acme" in refused.value.message
    assert "make someone else an owner first" in refused.value.message
    assert roles(org)["owner@acme.test"] == Role.OWNER
    assert not AuditEvent.objects.exists()


def test_the_only_owner_cannot_be_removed(org, owner, member, actor):
    with pytest.raises(LastOwnerError, match="only owner of Acme"):
        membership_remove(membership=owner, actor=actor(owner))

    assert roles(org) == {"owner@acme.test": Role.OWNER, "member@acme.test": Role.MEMBER}
    assert not AuditEvent.objects.exists()


def test_one_of_two_owners_can_be_demoted(org, owner, actor):
    second = MembershipFactory(organization=org, role=Role.OWNER, user__email="second@acme.test")

    membership_change_role(membership=second, role=Role.MEMBER, actor=actor(owner))

    assert roles(org) == {"owner@acme.test": Role.OWNER, "second@acme.test": Role.MEMBER}
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.actor == owner.user
    assert event.target_type == "membership"
    assert event.target_id == str(second.pk)
    assert event.target_label == "second@acme.test"
    assert event.changes == {"role": {"before": "owner", "after": "member"}}


def test_one_of_two_owners_can_be_removed(org, owner, actor):
    second = MembershipFactory(organization=org, role=Role.OWNER, user__email="second@acme.test")

    membership_remove(membership=owner, actor=actor(second))

    assert roles(org) == {"second@acme.test": Role.OWNER}
    event = AuditEvent.objects.get(action="membership.removed")
    assert event.changes["role"] == {"before": "owner", "after": None}


def test_removing_a_member_removes_their_connections_and_records_how_many(
    org, owner, member, actor
):
    ConnectionFactory.create_batch(2, membership=member)

    membership_remove(membership=member, actor=actor(owner))

    assert not Connection.objects.exists()
    event = AuditEvent.objects.get(action="membership.removed")
    assert event.changes["connections"] == {"before": 2, "after": 0}


def test_a_member_made_auditor_lets_go_of_their_connections(org, owner, member, actor):
    ConnectionFactory(membership=member)

    membership_change_role(membership=member, role=Role.AUDITOR, actor=actor(owner))

    assert roles(org)["member@acme.test"] == Role.AUDITOR
    assert not Connection.objects.filter(membership=member).exists()


def test_setting_the_role_a_member_already_has_changes_nothing(org, owner, member, actor):
    membership_change_role(membership=member, role=Role.MEMBER, actor=actor(owner))

    assert not AuditEvent.objects.exists()


def test_an_unknown_role_is_refused(org, owner, member, actor):
    with pytest.raises(OrganizationError, match="'boss' is not a role") as refused:
        membership_change_role(membership=member, role="boss", actor=actor(owner))

    assert refused.value.field == "role"
    assert roles(org)["member@acme.test"] == Role.MEMBER


def test_adding_someone_already_in_the_organization_is_refused(org, owner, member, actor):
    with pytest.raises(OrganizationError, match="member@acme.test is already in Acme"):
        membership_add(organization=org, user=member.user, role=Role.OWNER, actor=actor(owner))

    assert roles(org)["member@acme.test"] == Role.MEMBER


def test_creating_an_organization_makes_its_creator_the_owner(plan, actor):
    user = UserFactory(email="founder@initech.test")

    org = organization_create(
        slug="Initech Corp", name=" Initech ", plan=plan("team"), owner=user, actor=actor(user)
    )

    assert org.slug == "initech-corp"
    assert org.name == "Initech"
    assert roles(org) == {"founder@initech.test": Role.OWNER}
    assert list(
        AuditEvent.objects.filter(organization=org).order_by("id").values_list("action", flat=True)
    ) == ["organization.created", "membership.added"]


def test_a_taken_slug_is_refused(org, plan, actor):
    user = UserFactory()

    with pytest.raises(OrganizationError, match="'acme' is already taken") as refused:
        organization_create(
            slug="acme", name="Acme 2", plan=plan("team"), owner=user, actor=actor(user)
        )

    assert refused.value.field == "slug"
    assert not user.memberships.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(actor, run_concurrently):
    org_owner = MembershipFactory(role=Role.OWNER)
    org = org_owner.organization
    second = MembershipFactory(organization=org, role=Role.OWNER)

    outcomes = run_concurrently(
        lambda: membership_change_role(membership=second, role=Role.MEMBER, actor=actor(org_owner)),
        lambda: membership_change_role(membership=org_owner, role=Role.MEMBER, actor=actor(second)),
    )

    assert sum(isinstance(o, Membership) for o in outcomes) == 1
    assert sum(isinstance(o, LastOwnerError) for o in outcomes) == 1
    assert Membership.objects.filter(organization=org, role=Role.OWNER).count() == 1
    assert AuditEvent.objects.filter(action="membership.role_changed").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_owners_removing_each_other_at_once_leave_one_owner(actor, run_concurrently):
    org_owner = MembershipFactory(role=Role.OWNER)
    org = org_owner.organization
    second = MembershipFactory(organization=org, role=Role.OWNER)

    outcomes = run_concurrently(
        lambda: membership_remove(membership=second, actor=actor(org_owner)),
        lambda: membership_remove(membership=org_owner, actor=actor(second)),
    )

    assert sum(isinstance(o, LastOwnerError) for o in outcomes) == 1
    assert outcomes.count(None) == 1
    assert Membership.objects.filter(organization=org, role=Role.OWNER).count() == 1
