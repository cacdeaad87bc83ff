"""A person the identity provider deactivates or deletes loses the membership the same way an
owner's removal ends it: their tokens are revoked at the authorization server after commit,
their API tokens stop, and the trail records both events together."""

import pytest

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.identity.models import ScimUser
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.vault import access_token_of, refresh_token_of
from orgconnectors.organizations.models import Membership
from tests.scim.helpers import Scim, provisioned

pytestmark = pytest.mark.django_db


def _tokens(credential: OAuthCredential) -> set[str]:
    return {access_token_of(credential), refresh_token_of(credential)}


def test_a_scim_deactivation_revokes_the_members_tokens_at_the_server(
    org, owner, member, oauth_connector, provider, authorize, django_capture_on_commit_callbacks
):
    owners_tokens = _tokens(authorize(owner, oauth_connector).connection.oauth_credential)
    members_tokens = _tokens(authorize(member, oauth_connector).connection.oauth_credential)
    api_token, _secret = api_token_create(
        membership=member, name="laptop", actor=Actor(user=member.user)
    )
    scim_user = provisioned(member)

    with django_capture_on_commit_callbacks(execute=True):
        response = Scim(org).deactivate(scim_user)

    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    assert set(provider.revoked) == members_tokens
    assert _tokens(OAuthCredential.objects.get()) == owners_tokens
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert ApiToken.objects.get(pk=api_token.pk).revoked_at is not None
    assert ScimUser.objects.get(pk=scim_user.pk).active is False
    assert AuditEvent.objects.filter(action="scim.user_deactivated").count() == 1
    assert AuditEvent.objects.filter(action="membership.removed").count() == 1


def test_deactivating_the_only_owner_is_refused_and_changes_nothing(org, owner):
    scim_user = provisioned(owner)

    response = Scim(org).deactivate(scim_user)

    assert response.status_code == 409
    assert "only owner" in response.json()["detail"]
    assert ScimUser.objects.get(pk=scim_user.pk).active is True
    assert Membership.objects.filter(pk=owner.pk).exists()
    assert not AuditEvent.objects.filter(action="scim.user_deactivated").exists()


def test_a_scim_deletion_revokes_the_members_tokens_and_forgets_the_person(
    org, member, oauth_connector, provider, authorize, django_capture_on_commit_callbacks
):
    members_tokens = _tokens(authorize(member, oauth_connector).connection.oauth_credential)
    scim_user = provisioned(member)

    with django_capture_on_commit_callbacks(execute=True):
        response = Scim(org).request("DELETE", f"Users/{scim_user.pk}")

    assert response.status_code == 204
    assert set(provider.revoked) == members_tokens
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert not ScimUser.objects.exists()
    assert AuditEvent.objects.filter(action="scim.user_deleted").count() == 1


def test_reactivating_a_person_gives_them_a_membership_again(org, member):
    scim_user = provisioned(member)
    scim = Scim(org)
    scim.deactivate(scim_user)

    response = scim.request(
        "PATCH",
        f"Users/{scim_user.pk}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": True}],
        },
    )

    assert response.status_code == 200
    assert Membership.objects.get(organization=org, user=member.user).role == "member"
