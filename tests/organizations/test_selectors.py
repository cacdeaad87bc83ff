import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from orgconnectors.connectors.models import Connection
from orgconnectors.core.errors import NotAllowed
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.selectors import members_of, membership_for, require_role
from tests.factories import ConnectionFactory, MembershipFactory

Role = Membership.Role


def test_membership_for_finds_the_callers_membership(org, member):
    assert membership_for(user=member.user, slug="acme") == member


def test_another_organization_is_not_found_rather_than_forbidden(member, other_org):
    with pytest.raises(Http404):
        membership_for(user=member.user, slug=other_org.slug)


def test_an_absent_organization_is_not_found(member):
    with pytest.raises(Http404):
        membership_for(user=member.user, slug="no-such-org")


def test_an_anonymous_visitor_finds_no_organization(org, owner):
    with pytest.raises(Http404):
        membership_for(user=AnonymousUser(), slug="acme")


def test_require_role_lets_a_listed_role_through(owner):
    assert require_role(owner, Role.OWNER, Role.AUDITOR) == owner


def test_require_role_names_who_may_and_the_callers_role(auditor):
    with pytest.raises(NotAllowed) as refused:
        require_role(auditor, Role.OWNER, Role.MEMBER)

    assert refused.value.status == 403
    assert refused.value.message == (
        "Only owners and members can do this; your role in Acme is auditor."
    )


def test_members_of_counts_connections_in_use(org, owner, member, auditor):
    ConnectionFactory(membership=member, state=Connection.State.ENABLED)
    ConnectionFactory(membership=member, state=Connection.State.NEEDS_AUTHORIZATION)
    ConnectionFactory(membership=member, state=Connection.State.SUSPENDED)
    ConnectionFactory(membership=owner, state=Connection.State.DISABLED)

    counted = {m.user.email: m.connections_in_use for m in members_of(organization=org)}

    assert counted == {"auditor@acme.test": 0, "member@acme.test": 2, "owner@acme.test": 0}


def test_members_of_lists_only_the_organizations_members(org, owner, other_owner):
    assert list(members_of(organization=org)) == [owner]


@pytest.mark.parametrize("size", [3, 30])
def test_members_of_reads_any_number_of_members_in_one_query(org, size, django_assert_num_queries):
    for membership in MembershipFactory.create_batch(size, organization=org):
        ConnectionFactory(membership=membership)

    with django_assert_num_queries(1):
        # 1. the memberships with their users (join) and connections in use (count)
        rows = [(m.user.email, m.role, m.connections_in_use) for m in members_of(organization=org)]

    assert len(rows) == size
