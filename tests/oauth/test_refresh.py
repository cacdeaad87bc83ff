"""Refreshing members' tokens before they expire, against the real authorization server."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.oauth import tasks
from orgconnectors.oauth.errors import NeedsAuthorization
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from orgconnectors.oauth.refresh_on_demand import (
    connector_probe_token,
    credential_fresh_access_token,
)
from orgconnectors.oauth.vault import access_token_of, refresh_due_at, refresh_token_of

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def _due(credential: OAuthCredential):
    return time_machine.travel(credential.next_refresh_at + timedelta(seconds=1), tick=False)


@pytest.mark.parametrize(
    ("expires_in", "can_refresh", "after"),
    [
        (3600, True, timedelta(minutes=45)),  # 75% of the lifetime
        (600, True, timedelta(minutes=5)),  # no later than 5 minutes before expiry
        (120, True, timedelta(minutes=1)),  # never before half the lifetime
        (None, True, timedelta(days=1)),  # at least daily without a lifetime
        (600, False, timedelta(minutes=10)),  # nothing to refresh with: due at expiry
        (None, False, None),
    ],
)
def test_a_credential_is_due_at_the_documented_point_of_its_lifetime(
    expires_in, can_refresh, after
):
    due = refresh_due_at(obtained_at=NOW, expires_in=expires_in, can_refresh=can_refresh)

    assert due == (NOW + after if after is not None else None)


def test_the_sweep_refreshes_a_due_credential_and_keeps_the_rotated_refresh_token(
    member, oauth_connector, provider, authorize
):
    credential = authorize(member, oauth_connector).connection.oauth_credential
    old_access, old_refresh = access_token_of(credential), refresh_token_of(credential)

    with _due(credential):
        tasks.refresh_sweep()
        tasks.refresh_sweep()  # nothing is due any more

    credential.refresh_from_db()
    assert provider.refresh_calls == 1
    assert refresh_token_of(credential) in provider.refresh
    assert old_refresh not in provider.refresh
    assert access_token_of(credential) != old_access
    assert credential.generation == 2
    assert credential.next_refresh_at > credential.obtained_at
    assert provider.token_log.forms[-1]["resource"] == oauth_connector.url
    event = AuditEvent.objects.get(action="oauth.refreshed")
    assert event.changes["refresh_token_rotated"]["after"] is True


def test_a_revoked_grant_asks_the_member_to_authorize_again_by_email_and_banner(
    member, oauth_connector, provider, authorize, mailoutbox, django_capture_on_commit_callbacks
):
    authorized = authorize(member, oauth_connector)
    credential = authorized.connection.oauth_credential
    provider.drop_grants()

    with _due(credential), django_capture_on_commit_callbacks(execute=True):
        tasks.refresh_sweep()

    connection = Connection.objects.get(pk=authorized.connection.pk)
    assert connection.state == Connection.State.NEEDS_AUTHORIZATION
    assert "no longer accepts your authorization" in connection.state_reason
    assert not OAuthCredential.objects.exists()
    event = AuditEvent.objects.get(action="oauth.refresh_failed")
    assert event.changes["error"]["after"] == "invalid_grant"
    assert event.changes["permanent"]["after"] is True
    (email,) = mailoutbox
    assert email.to == [member.user.email]
    assert email.subject == "Authorize Tracker again"
    page = authorized.browser.get("/orgs/acme/my-connectors/").content.decode()
    assert "Tracker needs your authorization." in page
    assert "no longer accepts your authorization" in page


def test_a_server_that_is_down_is_tried_again_later_while_the_old_token_serves(
    member, oauth_connector, provider, authorize
):
    credential = authorize(member, oauth_connector).connection.oauth_credential
    old_access = access_token_of(credential)
    provider.token_endpoint_down = True

    with _due(credential):
        tasks.refresh_sweep()
        credential.refresh_from_db()
        token_meanwhile = credential_fresh_access_token(connection=credential.connection)
        retry_at = credential.next_refresh_at
        assert timezone.now() + timedelta(seconds=15) <= retry_at
        assert retry_at <= timezone.now() + timedelta(seconds=30)

    assert token_meanwhile == old_access
    assert credential.refresh_failures == 1
    assert "503" in credential.last_refresh_error
    failed = AuditEvent.objects.get(action="oauth.refresh_failed")
    assert failed.changes["permanent"]["after"] is False
    assert Connection.objects.get().state == Connection.State.ENABLED

    provider.token_endpoint_down = False
    with _due(credential):
        tasks.refresh_sweep()

    credential.refresh_from_db()
    assert provider.token_log.statuses == [200, 503, 200]
    assert (credential.refresh_failures, credential.last_refresh_error) == (0, "")
    assert access_token_of(credential) != old_access


def test_an_unreachable_token_endpoint_counts_as_a_transient_failure(
    member, oauth_connector, provider, authorize, unused_port_url
):
    credential = authorize(member, oauth_connector).connection.oauth_credential
    OAuthClient.objects.update(token_endpoint=unused_port_url)

    with _due(credential):
        tasks.refresh_sweep()

    credential.refresh_from_db()
    assert credential.refresh_failures == 1
    assert "could not be reached" in credential.last_refresh_error
    assert Connection.objects.get().state == Connection.State.ENABLED


def test_a_token_needed_now_is_refreshed_first_when_it_expires_within_a_minute(
    member, oauth_connector, provider, authorize, auth_server
):
    credential = authorize(member, oauth_connector).connection.oauth_credential
    old_access = access_token_of(credential)

    with time_machine.travel(credential.expires_at - timedelta(seconds=30), tick=False):
        token = credential_fresh_access_token(connection=credential.connection)

    assert token != old_access
    assert provider.refresh_calls == 1
    assert token in provider.access


def test_a_token_is_not_handed_out_for_a_connection_that_needs_authorization(
    member, oauth_connector, provider, authorize
):
    connection = authorize(member, oauth_connector).connection
    Connection.objects.filter(pk=connection.pk).update(
        state=Connection.State.NEEDS_AUTHORIZATION, state_reason="Authorize again."
    )

    with pytest.raises(NeedsAuthorization, match="Authorize again."):
        credential_fresh_access_token(connection=connection)


def test_a_forgotten_dynamic_registration_is_registered_again_at_the_next_authorization(
    member, oauth_connector, provider, authorize, django_capture_on_commit_callbacks
):
    credential = authorize(member, oauth_connector).connection.oauth_credential
    provider.forget_client(credential.client.client_id)

    with _due(credential), django_capture_on_commit_callbacks(execute=True):
        tasks.refresh_sweep()

    assert not OAuthClient.objects.exists()
    assert Connection.objects.get().state == Connection.State.NEEDS_AUTHORIZATION
    assert AuditEvent.objects.get(action="oauth.refresh_failed").changes["error"]["after"] == (
        "invalid_client"
    )

    authorize(member, oauth_connector)

    assert provider.registrations == 2
    assert OAuthClient.objects.get().client_id != credential.client.client_id


def test_health_checks_get_a_token_of_an_owners_own_connection_only(
    owner, member, oauth_connector, provider, authorize
):
    authorize(member, oauth_connector)
    assert connector_probe_token(connector_id=oauth_connector.pk) is None

    authorized = authorize(owner, oauth_connector)

    token = connector_probe_token(connector_id=oauth_connector.pk)
    assert token == access_token_of(authorized.connection.oauth_credential)
