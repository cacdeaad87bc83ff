"""Authorizations and token refreshes are usage events of the member and the connector."""

import pytest

from orgconnectors.audit.models import UsageEvent
from orgconnectors.oauth.refresh import credential_refresh
from orgconnectors.oauth.refresh_outcomes import Outcome

pytestmark = pytest.mark.django_db


def test_an_authorization_is_a_usage_event_of_the_member_and_the_connector(
    member, oauth_connector, authorize
):
    authorize(member, oauth_connector)

    (event,) = UsageEvent.objects.all()
    assert event.kind == UsageEvent.Kind.AUTHORIZATION
    assert (event.organization_id, event.user_id, event.connector_id) == (
        member.organization_id,
        member.user_id,
        oauth_connector.pk,
    )
    assert event.details == {"purpose": "connect", "scope": "tools:read"}


def test_a_refresh_is_a_usage_event_and_holds_no_token(
    member, oauth_connector, authorize, django_capture_on_commit_callbacks
):
    credential = authorize(member, oauth_connector).connection.oauth_credential

    with django_capture_on_commit_callbacks(execute=True):
        assert credential_refresh(credential_id=credential.pk) is Outcome.REFRESHED

    (event,) = UsageEvent.objects.filter(kind=UsageEvent.Kind.TOKEN_REFRESH)
    assert (event.user_id, event.connector_id) == (member.user_id, oauth_connector.pk)
    assert event.details == {"refresh_token_rotated": True}
