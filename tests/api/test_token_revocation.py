"""A membership that ends takes its API tokens with it, and one whose role drops keeps only the
tokens the new role allows: revoked, audited, and still revoked when the person comes back."""

import ast
from pathlib import Path

import pytest
from django.test import Client

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import AuditEvent
from orgconnectors.organizations.services import (
    membership_add,
    membership_change_role,
    membership_remove,
)
from tests.api.conftest import ApiClient
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ACME = "/api/v1/orgs/acme"


def _token(membership, actor, **kwargs):
    api_token, secret = api_token_create(
        membership=membership, name="CI", actor=actor(membership), **kwargs
    )
    return api_token, ApiClient(Client(), secret)


def test_a_removed_member_who_comes_back_finds_their_old_tokens_revoked(owner, member, actor):
    api_token, api_client = _token(member, actor)

    membership_remove(membership=member, actor=actor(owner))
    membership_add(organization=owner.organization, user=member.user, role="member", actor=actor())

    assert api_client.get(ACME).status_code == 401
    api_token.refresh_from_db()
    assert api_token.revoked_at is not None
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.actor == owner.user
    assert event.changes == {"reason": {"before": None, "after": "membership ended"}}


def test_an_owner_made_member_loses_the_tokens_with_admin_and_keeps_the_others(
    owner, other_owner_of_acme, actor
):
    with_admin, admin_client = _token(owner, actor)
    without_admin, reader_client = _token(owner, actor, scopes=["read", "connections"])

    membership_change_role(membership=owner, role="member", actor=actor(other_owner_of_acme))

    assert admin_client.get(ACME).status_code == 401
    assert reader_client.get(ACME).status_code == 200
    with_admin.refresh_from_db()
    without_admin.refresh_from_db()
    assert with_admin.revoked_at is not None
    assert without_admin.revoked_at is None
    (event,) = AuditEvent.objects.filter(action="api_token.revoked")
    assert event.target_id == str(with_admin.pk)
    assert event.changes["reason"]["after"] == "role changed from owner to member"


def test_a_member_made_auditor_loses_the_tokens_with_connections(owner, member, actor):
    with_connections, _client = _token(member, actor)
    read_only, reader_client = _token(member, actor, scopes=["read"])

    membership_change_role(membership=member, role="auditor", actor=actor(owner))

    assert set(ApiToken.objects.filter(revoked_at__isnull=False)) == {with_connections}
    assert reader_client.get(ACME).status_code == 200


def test_a_promotion_revokes_nothing(owner, member, actor):
    _token(member, actor)

    membership_change_role(membership=member, role="owner", actor=actor(owner))

    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()


def test_tokens_in_other_organizations_are_left_alone(owner, member, other_org, actor):
    elsewhere = MembershipFactory(organization=other_org, user=member.user, role="member")
    other_token, _client = _token(elsewhere, actor)

    membership_remove(membership=member, actor=actor(owner))

    other_token.refresh_from_db()
    assert other_token.revoked_at is None


def test_the_organizations_app_does_not_import_the_api_app():
    # Lower apps send signals; the api app listens. An import the other way would be a cycle.
    package = Path(__file__).resolve().parents[2] / "orgconnectors" / "organizations"
    importers = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(name.startswith("orgconnectors.api") for name in names):
                importers.append(path.name)

    assert importers == []


@pytest.fixture
def other_owner_of_acme(org):
    return MembershipFactory(organization=org, role="owner")
