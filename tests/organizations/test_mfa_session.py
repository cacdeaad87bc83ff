"""Where an organization requires two-factor authentication, the session itself must have
passed the second factor; turning the requirement on ends the sessions and API tokens that did
not, after telling the people concerned."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse

from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import AuditEvent
from orgconnectors.organizations.organization_settings import organization_settings_update
from tests.factories import PASSWORD
from tests.organizations.totp import activate_totp, current_code

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme"


def _password_sign_in(membership) -> Client:
    """Signed in through allauth's form with the password; a person with an authenticator is
    then asked for its code, which this does not give."""
    EmailAddress.objects.get_or_create(
        user=membership.user, email=membership.user.email, primary=True, verified=True
    )
    client = Client()
    client.post(reverse("account_login"), {"login": membership.user.email, "password": PASSWORD})
    return client


def _totp_sign_in(membership) -> Client:
    client = _password_sign_in(membership)
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(membership.user)})
    assert response.status_code == 302, response.content
    return client


def _require(org, owner, actor):
    organization_settings_update(organization=org, require_two_factor=True, actor=actor(owner))


# The requirement asks the session, not only the account


def test_a_password_only_session_of_an_owner_with_totp_is_refused(org, owner, actor):
    _require(org, owner, actor)
    client = _password_sign_in(owner)  # no authenticator yet: the password was all it took
    activate_totp(owner.user)  # activated elsewhere, never used by this session

    page = client.get(reverse("connector_list", args=[org.slug]))
    api = client.get(API)

    assert page.status_code == 302
    assert page.url.startswith(reverse("mfa_reauthenticate"))
    assert api.status_code == 403
    assert api.json()["detail"] == (
        "Acme requires two-factor authentication for owners and auditors, and this session was "
        "signed in without it: confirm with your authenticator app "
        "(/accounts/2fa/reauthenticate/), then try again."
    )


def test_confirming_with_the_authenticator_opens_the_pages_again(org, owner, actor):
    _require(org, owner, actor)
    client = _password_sign_in(owner)
    activate_totp(owner.user)
    target = reverse("connector_list", args=[org.slug])

    asked = client.get(target)
    confirmed = client.post(asked.url, {"code": current_code(owner.user)})

    assert confirmed.status_code == 302
    assert confirmed.url == target
    assert client.get(target).status_code == 200
    assert client.get(API).status_code == 200


def test_a_session_that_passed_totp_at_sign_in_works(org, owner, auditor, actor):
    activate_totp(owner.user)
    activate_totp(auditor.user)
    _require(org, owner, actor)

    owners = _totp_sign_in(owner)
    auditors = _totp_sign_in(auditor)

    assert owners.get(reverse("connector_list", args=[org.slug])).status_code == 200
    assert owners.get(API).status_code == 200
    assert auditors.get(reverse("audit_list", args=[org.slug])).status_code == 200


# allauth announces the new authenticator once its transaction commits, inside the request.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_activating_totp_in_the_session_counts_as_passing_it(org, owner, actor):
    _require(org, owner, actor)
    client = _password_sign_in(owner)
    # allauth asks for the password once more before a factor is added.
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    counters = list(yield_hotp_counters_from_time())
    code = format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))
    activated = client.post(reverse("mfa_activate_totp"), {"code": code})

    assert activated.status_code == 302, activated.content
    assert client.get(reverse("connector_list", args=[org.slug])).status_code == 200


def test_members_need_no_second_factor_in_the_session(org, owner, member, actor):
    _require(org, owner, actor)
    client = _password_sign_in(member)

    assert client.get(reverse("my_connectors", args=[org.slug])).status_code == 200
    assert client.get(API).status_code == 200


# Turning the requirement on


def test_turning_it_on_tells_owners_and_auditors_then_ends_their_tokens_and_older_sessions(
    org, owner, auditor, member, actor, django_capture_on_commit_callbacks, eager_celery
):
    activate_totp(owner.user)
    with_totp = _totp_sign_in(owner)
    password_only = Client()
    password_only.force_login(owner.user)
    auditors_session = Client()
    auditors_session.force_login(auditor.user)
    members_session = _password_sign_in(member)
    owners_token, _ = api_token_create(membership=owner, name="CI", actor=actor(owner))
    auditors_token, _ = api_token_create(membership=auditor, name="CI", actor=actor(auditor))
    members_token, _ = api_token_create(membership=member, name="CI", actor=actor(member))

    with django_capture_on_commit_callbacks(execute=True):
        _require(org, owner, actor)

    # Told by email, each of them, and only them.
    assert sorted(message.to[0] for message in mail.outbox) == [
        auditor.user.email,
        owner.user.email,
    ]
    assert "now requires two-factor authentication" in mail.outbox[0].subject
    assert "API tokens in Acme no longer work" in mail.outbox[0].body
    # Their tokens are revoked, each with its audit event; the member's stays.
    for api_token in (owners_token, auditors_token, members_token):
        api_token.refresh_from_db()
    assert owners_token.revoked_at is not None
    assert auditors_token.revoked_at is not None
    assert members_token.revoked_at is None
    reasons = AuditEvent.objects.filter(action="api_token.revoked").values_list(
        "changes", flat=True
    )
    assert (
        list(reasons)
        == [{"reason": {"before": None, "after": "two-factor authentication now required"}}] * 2
    )
    # Sessions that never passed a second factor end; the others go on.
    home = reverse("connector_list", args=[org.slug])
    assert password_only.get(home).url.startswith(reverse("account_login"))
    assert auditors_session.get(home).url.startswith(reverse("account_login"))
    assert with_totp.get(home).status_code == 200
    assert members_session.get(reverse("my_connectors", args=[org.slug])).status_code == 200


def test_the_owner_who_turns_it_on_keeps_their_session(
    client, org, owner, auditor, django_capture_on_commit_callbacks
):
    client.force_login(owner.user)
    auditors_session = Client()
    auditors_session.force_login(auditor.user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("organization_mfa", args=[org.slug]), {"require_mfa": "true"})

    assert Session.objects.filter(session_key=client.session.session_key).exists()
    assert Session.objects.count() == 1
    # Still asked to set up a second factor before going on.
    assert client.get(reverse("plan", args=[org.slug])).url == reverse("mfa_activate_totp")


def test_turning_it_off_ends_nothing(org, owner, actor, django_capture_on_commit_callbacks):
    _require(org, owner, actor)
    api_token, _ = api_token_create(membership=owner, name="CI", actor=actor(owner))
    session = Client()
    session.force_login(owner.user)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        organization_settings_update(organization=org, require_two_factor=False, actor=actor(owner))

    api_token.refresh_from_db()
    assert api_token.revoked_at is None
    assert Session.objects.count() == 1
    assert mail.outbox == []
