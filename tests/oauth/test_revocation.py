"""Disconnecting, removing a connector, removing a member and making a member an auditor revoke
the tokens at the server (RFC 7009) after the change is committed, then forget them."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.connections import connection_disable
from orgconnectors.connectors.models import Connection
from orgconnectors.connectors.services import connector_remove
from orgconnectors.oauth import tasks
from orgconnectors.oauth.models import OAuthClient, OAuthCredential, TokenRevocation
from orgconnectors.oauth.vault import access_token_of, refresh_token_of
from orgconnectors.organizations.services import membership_change_role, membership_remove
from tests.oauth.conftest import browser_for

pytestmark = pytest.mark.django_db


def _tokens(credential: OAuthCredential) -> set[str]:
    return {access_token_of(credential), refresh_token_of(credential)}


def test_disconnecting_revokes_the_members_tokens_then_forgets_them(
    member, oauth_connector, provider, authorize, django_capture_on_commit_callbacks
):
    authorized = authorize(member, oauth_connector)
    tokens = _tokens(authorized.connection.oauth_credential)

    with django_capture_on_commit_callbacks(execute=True):
        response = authorized.browser.post(
            f"/orgs/acme/my-connectors/{oauth_connector.pk}/disconnect/"
        )

    assert response.status_code == 302
    assert set(provider.revoked) == tokens
    assert not OAuthCredential.objects.exists()
    assert not TokenRevocation.objects.exists()
    event = AuditEvent.objects.get(action="oauth.revoked")
    assert event.changes["revoked"]["after"] == ["refresh_token", "access_token"]
    assert event.target_id == str(authorized.connection.pk)
    # The connection is kept, disconnected: the event is found under its connector and member.
    assert (event.connector_ref, event.member_ref) == (oauth_connector.pk, member.user_id)


def test_removing_a_connector_revokes_every_members_tokens(
    owner, member, oauth_connector, provider, authorize, actor, django_capture_on_commit_callbacks
):
    tokens = set()
    for membership in (owner, member):
        tokens |= _tokens(authorize(membership, oauth_connector).connection.oauth_credential)

    with django_capture_on_commit_callbacks(execute=True):
        connector_remove(connector=oauth_connector, actor=actor(owner))

    assert set(provider.revoked) == tokens
    assert not OAuthClient.objects.exists()
    assert not TokenRevocation.objects.exists()
    assert AuditEvent.objects.filter(action="oauth.revoked").count() == 2


def test_nothing_is_sent_before_the_disconnection_commits(
    member, oauth_connector, provider, authorize, actor, django_capture_on_commit_callbacks
):
    authorize(member, oauth_connector)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        connection_disable(membership=member, connector=oauth_connector, actor=actor(member))

    assert provider.revoked == []
    assert len(callbacks) == 2  # the revocation, and sealing the audit event into the chain
    assert TokenRevocation.objects.count() == 1


def test_a_revocation_that_cannot_reach_the_server_is_tried_again_later(
    member,
    oauth_connector,
    provider,
    authorize,
    actor,
    unused_port_url,
    auth_server,
    django_capture_on_commit_callbacks,
):
    tokens = _tokens(authorize(member, oauth_connector).connection.oauth_credential)
    OAuthClient.objects.update(revocation_endpoint=unused_port_url)

    with django_capture_on_commit_callbacks(execute=True):
        connection_disable(membership=member, connector=oauth_connector, actor=actor(member))

    waiting = TokenRevocation.objects.get()
    assert waiting.attempts == 1
    assert not OAuthCredential.objects.exists()
    TokenRevocation.objects.update(revocation_endpoint=f"{auth_server.base_url}/revoke")
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):  # the hourly retry
        assert tasks.revocations_retry() == 1

    assert set(provider.revoked) == tokens
    assert not TokenRevocation.objects.exists()


def test_a_server_without_revocation_is_not_asked_and_the_tokens_are_forgotten(
    member, oauth_connector, provider, authorize, actor, django_capture_on_commit_callbacks
):
    authorize(member, oauth_connector)
    OAuthClient.objects.update(revocation_endpoint="")

    with django_capture_on_commit_callbacks(execute=True):
        connection_disable(membership=member, connector=oauth_connector, actor=actor(member))

    assert provider.revoked == []
    assert not OAuthCredential.objects.exists()
    assert not TokenRevocation.objects.exists()


def test_removing_a_member_revokes_their_tokens_and_keeps_the_others(
    owner, member, oauth_connector, provider, authorize, django_capture_on_commit_callbacks
):
    owners_tokens = _tokens(authorize(owner, oauth_connector).connection.oauth_credential)
    authorized = authorize(member, oauth_connector)
    members_tokens = _tokens(authorized.connection.oauth_credential)
    page = f"/orgs/acme/members/{member.pk}/remove/"

    with django_capture_on_commit_callbacks(execute=True):
        response = browser_for(owner).post(page)

    assert response.status_code == 302
    assert set(provider.revoked) == members_tokens
    assert OAuthCredential.objects.get().connection.membership == owner
    assert _tokens(OAuthCredential.objects.get()) == owners_tokens
    assert not TokenRevocation.objects.exists()
    event = AuditEvent.objects.get(action="oauth.revoked")
    assert event.target_id == str(authorized.connection.pk)
    assert event.target_label == f"member@acme.test · {oauth_connector.name}"
    # The connection went with the membership: what it concerned is no longer known.
    assert (event.connector_ref, event.member_ref) == (None, None)


def test_making_a_member_an_auditor_revokes_their_tokens(
    owner, member, oauth_connector, provider, authorize, actor, django_capture_on_commit_callbacks
):
    tokens = _tokens(authorize(member, oauth_connector).connection.oauth_credential)

    with django_capture_on_commit_callbacks(execute=True):
        membership_change_role(membership=member, role="auditor", actor=actor(owner))

    assert set(provider.revoked) == tokens
    assert not Connection.objects.filter(membership=member).exists()
    assert not OAuthCredential.objects.exists()
    assert AuditEvent.objects.filter(action="oauth.revoked").count() == 1


def test_nothing_is_sent_before_the_removal_commits(
    owner, member, oauth_connector, provider, authorize, actor, django_capture_on_commit_callbacks
):
    authorize(member, oauth_connector)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        membership_remove(membership=member, actor=actor(owner))

    assert provider.revoked == []
    # The revocation, sealing the audit event into the chain, and the gateway forgetting the
    # member's tokens (after each of the two signals a removal sends).
    assert len(callbacks) == 4
    assert TokenRevocation.objects.count() == 1
