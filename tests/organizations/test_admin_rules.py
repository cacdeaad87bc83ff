"""The admin keeps the dashboard's rules: deleting a person cannot leave an organization without
an owner, organizations are not deleted (their trail is evidence), and each action needs the
permission to change what it changes, not only to see it."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.models import Connection
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.models import Invitation, Membership, Organization
from tests.factories import ConnectorFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator() -> Client:
    return _signed_in(
        get_user_model().objects.create_superuser(email="ops@example.com", password="x-1")
    )


def _staff_who_may_only_view(*codenames: str) -> Client:
    user = get_user_model().objects.create_user(
        email="viewer@example.com", password="x-1", is_staff=True
    )
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return _signed_in(user)


def test_deleting_the_last_owner_of_an_organization_with_members_is_refused_with_a_message(
    operator, owner, member
):
    page = reverse("admin:accounts_user_delete", args=[owner.user.pk])

    response = operator.post(page, {"post": "yes"}, follow=True)

    assert get_user_model().objects.filter(pk=owner.user.pk).exists()
    assert Membership.objects.filter(pk=owner.pk, role="owner").exists()
    assert "wner@acme.test is the only owner of Acme, which has other members" in (
        response.content.decode()
    )


def test_deleting_an_owner_who_shares_the_organization_with_another_owner_removes_them(
    operator, owner, member, org
):
    MembershipFactory(organization=org, role="owner", user__email="second@acme.test")

    response = operator.post(
        reverse("admin:accounts_user_delete", args=[owner.user.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not get_user_model().objects.filter(email="owner@acme.test").exists()
    assert list(
        Membership.objects.filter(organization=org, role="owner").values_list(
            "user__email", flat=True
        )
    ) == ["second@acme.test"]


def test_the_person_admin_offers_no_bulk_delete(operator):
    page = operator.get(reverse("admin:accounts_user_changelist")).content.decode()

    assert 'value="delete_selected"' not in page


def test_organizations_cannot_be_deleted_in_the_admin(operator, owner, org):
    response = operator.post(reverse("admin:organizations_organization_delete", args=[org.pk]))

    assert response.status_code == 403
    assert Organization.objects.filter(pk=org.pk).exists()


def test_revoking_a_token_in_the_admin_needs_more_than_the_permission_to_view_it(owner):
    token = ApiToken.objects.create(
        user=owner.user,
        organization=owner.organization,
        name="ci",
        prefix="p",
        token_hash="h",
        expires_at=timezone.now() + timedelta(days=30),
    )
    viewer = _staff_who_may_only_view("view_apitoken")
    page = reverse("admin:api_apitoken_changelist")

    viewer.post(page, {"action": "revoke", "_selected_action": [token.pk]})

    token.refresh_from_db()
    assert token.revoked_at is None
    assert 'value="revoke"' not in viewer.get(page).content.decode()


def test_revoking_an_invitation_in_the_admin_needs_more_than_the_permission_to_view_it(owner, org):
    invitation = Invitation.objects.create(
        organization=org,
        email="new@example.com",
        role="member",
        token_hash="h",
        invited_by=owner.user,
        expires_at=timezone.now() + timedelta(days=1),
    )
    viewer = _staff_who_may_only_view("view_invitation")

    viewer.post(
        reverse("admin:organizations_invitation_changelist"),
        {"action": "revoke", "_selected_action": [invitation.pk]},
    )

    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_switching_a_connection_in_the_admin_needs_more_than_the_permission_to_view_it(owner, org):
    connector = ConnectorFactory(organization=org)
    connection_enable(membership=owner, connector=connector, actor=Actor(user=owner.user))
    viewer = _staff_who_may_only_view("view_connection")

    viewer.post(
        reverse("admin:connectors_connection_changelist"),
        {"action": "disable", "_selected_action": [Connection.objects.get().pk]},
    )

    assert Connection.objects.get().state in Connection.IN_USE
