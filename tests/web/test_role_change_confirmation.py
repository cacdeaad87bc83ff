"""A role change that takes something away is shown, with what it takes, before it is made."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.models import Membership
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def role_url(membership) -> str:
    return reverse("member_role", args=[membership.organization.slug, membership.pk])


def test_making_a_connected_member_an_auditor_lists_what_they_lose_first(org, owner, member):
    wiki = ConnectorFactory(organization=org, name="Wiki")
    tracker = ConnectorFactory(organization=org, name="Tracker")
    ConnectionFactory(membership=member, connector=wiki)
    ConnectionFactory(
        membership=member, connector=tracker, state=Connection.State.NEEDS_AUTHORIZATION
    )

    asked = signed_in(owner).post(role_url(member), {"role": "auditor"})

    assert asked.status_code == 200
    text = words(asked)
    assert "Make member@acme.test auditor?" in text
    assert "Their 2 connections end and the tokens are revoked at the servers: Tracker Wiki" in text
    assert 'name="confirmed" value="yes"' in asked.content.decode()
    member.refresh_from_db()
    assert member.role == Role.MEMBER and member.connections.count() == 2
    assert not AuditEvent.objects.filter(action="membership.role_changed").exists()


def test_confirming_makes_the_change_and_ends_the_connections(org, owner, member):
    ConnectionFactory(membership=member, connector=ConnectorFactory(organization=org))

    done = signed_in(owner).post(role_url(member), {"role": "auditor", "confirmed": "yes"})

    assert done.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.AUDITOR and not member.connections.exists()


def test_a_member_without_connections_becomes_an_auditor_at_once(org, owner, member):
    done = signed_in(owner).post(role_url(member), {"role": "auditor"})

    assert done.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.AUDITOR


def test_an_owner_stepping_down_is_asked_first_when_another_owner_remains(org, owner):
    MembershipFactory(organization=org, role=Role.OWNER)

    asked = signed_in(owner).post(role_url(owner), {"role": "member"})
    done = signed_in(owner).post(role_url(owner), {"role": "member", "confirmed": "yes"})

    assert "Step down to member?" in words(asked)
    assert "You will no longer manage the connectors, members and plan of Acme" in words(asked)
    assert done.status_code == 302 and done["Location"] == reverse("org_home", args=["acme"])
    owner.refresh_from_db()
    assert owner.role == Role.MEMBER


def test_promoting_a_member_is_not_asked_twice(org, owner, member):
    ConnectionFactory(membership=member, connector=ConnectorFactory(organization=org))

    done = signed_in(owner).post(role_url(member), {"role": "owner"})

    assert done.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.OWNER and member.connections.count() == 1
