import hashlib
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.organizations.errors import InvitationInvalid, OrganizationError
from orgconnectors.organizations.invitations import (
    invitation_accept,
    invitation_create,
    invitation_revoke,
)
from orgconnectors.organizations.models import Invitation, Membership
from tests.factories import MembershipFactory, UserFactory

User = get_user_model()
Role = Membership.Role
NEW_PASSWORD = "a-long-new-password-42"


@pytest.fixture
def invite(org, owner, actor, django_capture_on_commit_callbacks):
    """invite(email, role) -> (invitation, token), with the email sent as on commit."""

    def make(email="new@acme.test", role=Role.MEMBER):
        with django_capture_on_commit_callbacks(execute=True):
            return invitation_create(organization=org, email=email, role=role, actor=actor(owner))

    return make


def nothing_was_created(invitation):
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not User.objects.filter(email=invitation.email).exists()
    assert not AuditEvent.objects.filter(action="invitation.accepted").exists()


def test_it_emails_the_link_and_stores_only_its_hash(org, invite, mailoutbox, eager_celery):
    invitation, token = invite("New@Acme.test ", Role.AUDITOR)

    assert invitation.email == "new@acme.test"
    assert invitation.role == Role.AUDITOR
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in str(stored)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new@acme.test"]
    assert mail.subject == "You are invited to Acme on orgconnectors"
    assert f"/invitations/{token}/" in mail.body
    assert "owner@acme.test invited you to Acme" in mail.body
    event = AuditEvent.objects.get(action="invitation.created")
    assert event.target_label == "new@acme.test"
    assert event.changes == {"role": {"before": None, "after": "auditor"}}
    assert token not in str(event.changes)


def test_the_email_leaves_only_once_the_invitation_is_committed(org, owner, actor, mailoutbox):
    # Without a commit the on_commit hook never runs: no link to an invitation that does not exist.
    invitation_create(organization=org, email="new@acme.test", role=Role.MEMBER, actor=actor(owner))

    assert mailoutbox == []


def test_it_refuses_to_invite_someone_already_in_the_organization(org, owner, member, actor):
    with pytest.raises(OrganizationError, match="member@acme.test is already in Acme") as refused:
        invitation_create(
            organization=org, email="MEMBER@acme.test", role=Role.MEMBER, actor=actor(owner)
        )

    assert refused.value.field == "email"
    assert not Invitation.objects.exists()


def test_it_refuses_an_unknown_role(org, owner, actor):
    with pytest.raises(OrganizationError, match="'admin' is not a role") as refused:
        invitation_create(organization=org, email="new@acme.test", role="admin", actor=actor(owner))

    assert refused.value.field == "role"


def test_accepting_anonymously_creates_a_verified_account_with_the_invited_role(org, invite, actor):
    invitation, token = invite("new@acme.test", Role.AUDITOR)

    membership = invitation_accept(
        token=token, password=NEW_PASSWORD, actor=actor(None, ip="192.0.2.10")
    )

    user = User.objects.get(email="new@acme.test")
    assert user.check_password(NEW_PASSWORD)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("new@acme.test", True, True)
    assert membership.user == user
    assert membership.organization == org
    assert membership.role == Role.AUDITOR
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    event = AuditEvent.objects.get(action="invitation.accepted")
    assert event.actor == user
    assert event.ip == "192.0.2.10"
    assert event.target_id == str(membership.pk)
    assert event.changes == {"role": {"before": None, "after": "auditor"}}


def test_a_signed_in_user_with_the_invited_email_accepts(org, invite):
    user = UserFactory(email="new@acme.test")
    invitation, token = invite("new@acme.test", Role.MEMBER)

    membership = invitation_accept(token=token, user=user)

    assert membership.user == user
    assert membership.role == Role.MEMBER


def test_anonymous_accept_needs_a_password(invite):
    invitation, token = invite()

    with pytest.raises(InvitationInvalid, match="Choose a password") as refused:
        invitation_accept(token=token, password="")

    assert refused.value.field == "password"
    nothing_was_created(invitation)


def test_anonymous_accept_for_an_existing_account_asks_to_sign_in(invite):
    existing = UserFactory(email="new@acme.test")
    invitation, token = invite("new@acme.test")

    with pytest.raises(InvitationInvalid, match="An account for new@acme.test already exists"):
        invitation_accept(token=token, password=NEW_PASSWORD)

    existing.refresh_from_db()
    assert not existing.check_password(NEW_PASSWORD)
    assert not existing.memberships.exists()


def test_an_address_held_as_another_accounts_second_address_is_not_given_an_account(invite):
    existing = UserFactory(email="someone@example.com")
    EmailAddress.objects.create(user=existing, email="new@acme.test", verified=True)
    invitation, token = invite("new@acme.test")

    with pytest.raises(InvitationInvalid, match="An account for new@acme.test already exists"):
        invitation_accept(token=token, password=NEW_PASSWORD)

    assert not User.objects.filter(email__iexact="new@acme.test").exists()
    assert not existing.memberships.exists()


def test_a_signed_in_user_who_verified_the_invited_address_accepts(org, invite):
    user = UserFactory(email="someone@example.com")
    EmailAddress.objects.create(user=user, email="new@acme.test", verified=True)
    invitation, token = invite("new@acme.test")

    membership = invitation_accept(token=token, user=user)

    assert membership.user == user


def test_an_expired_invitation_is_refused(invite):
    invitation, token = invite()

    with time_machine.travel(invitation.expires_at + timedelta(seconds=1)):
        with pytest.raises(InvitationInvalid) as refused:
            invitation_accept(token=token, password=NEW_PASSWORD)

    assert refused.value.message == (
        f"This invitation expired on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
        "Ask an owner to invite you again."
    )
    nothing_was_created(invitation)


def test_an_invitation_still_works_just_before_it_expires(invite):
    invitation, token = invite()

    with time_machine.travel(invitation.expires_at - timedelta(seconds=1)):
        membership = invitation_accept(token=token, password=NEW_PASSWORD)

    assert membership.user.email == "new@acme.test"


def test_the_invitation_lasts_the_configured_time(invite, settings):
    settings.ORGCONNECTORS_INVITATION_TTL_HOURS = 2
    with time_machine.travel(timezone.now(), tick=False):
        invitation, _ = invite()
        assert invitation.expires_at == timezone.now() + timedelta(hours=2)


def test_a_used_invitation_cannot_be_used_again(org, invite):
    invitation, token = invite()
    invitation_accept(token=token, password=NEW_PASSWORD)

    with pytest.raises(InvitationInvalid, match="already been used"):
        invitation_accept(token=token, password="another-password-99")

    assert Membership.objects.filter(organization=org, user__email="new@acme.test").count() == 1
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1
    assert User.objects.get(email="new@acme.test").check_password(NEW_PASSWORD)


def test_a_revoked_invitation_is_refused(invite, owner, actor):
    invitation, token = invite()
    invitation_revoke(invitation=invitation, actor=actor(owner))

    with pytest.raises(InvitationInvalid, match="withdrawn or replaced"):
        invitation_accept(token=token, password=NEW_PASSWORD)

    nothing_was_created(invitation)
    event = AuditEvent.objects.get(action="invitation.revoked")
    assert event.target_label == "new@acme.test"


def test_revoking_twice_is_recorded_once(invite, owner, actor):
    invitation, _ = invite()

    invitation_revoke(invitation=invitation, actor=actor(owner))
    invitation_revoke(invitation=invitation, actor=actor(owner))

    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


def test_a_new_invitation_replaces_the_pending_one(invite):
    first, first_token = invite("new@acme.test", Role.MEMBER)
    second, second_token = invite("new@acme.test", Role.OWNER)

    with pytest.raises(InvitationInvalid, match="withdrawn or replaced"):
        invitation_accept(token=first_token, password=NEW_PASSWORD)
    membership = invitation_accept(token=second_token, password=NEW_PASSWORD)

    assert membership.role == Role.OWNER


def test_a_signed_in_user_with_another_email_is_refused(invite):
    someone = UserFactory(email="someone@else.test")
    invitation, token = invite("new@acme.test")

    with pytest.raises(InvitationInvalid) as refused:
        invitation_accept(token=token, user=someone)

    assert refused.value.message == (
        "This invitation is for new@acme.test, but you are signed in as someone@else.test. "
        "Sign out and open the link again."
    )
    nothing_was_created(invitation)
    assert not someone.memberships.exists()


def test_an_unknown_token_is_refused(org, invite):
    invitation, token = invite()

    with pytest.raises(InvitationInvalid, match="This invitation link is not valid"):
        invitation_accept(token=token[:-2] + "xx", password=NEW_PASSWORD)

    nothing_was_created(invitation)


def test_someone_already_in_the_organization_cannot_accept_again(org, invite, member):
    # Invited before they joined by another route.
    invitation, token = invite("late@acme.test")
    late = UserFactory(email="late@acme.test")
    Membership.objects.create(user=late, organization=org, role=Role.MEMBER)

    with pytest.raises(InvitationInvalid, match="You are already in Acme"):
        invitation_accept(token=token, user=late)

    invitation.refresh_from_db()
    assert invitation.accepted_at is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_clicks_on_the_same_link_at_once_accept_it_once(actor, run_concurrently):
    owner = MembershipFactory(role=Role.OWNER)
    org = owner.organization
    invitation, token = invitation_create(
        organization=org, email="new@acme.test", role=Role.MEMBER, actor=actor(owner)
    )

    outcomes = run_concurrently(
        lambda: invitation_accept(token=token, password=NEW_PASSWORD),
        lambda: invitation_accept(token=token, password=NEW_PASSWORD),
    )

    assert sum(isinstance(o, Membership) for o in outcomes) == 1
    refused = [o for o in outcomes if isinstance(o, InvitationInvalid)]
    assert len(refused) == 1
    assert "already been used" in refused[0].message
    assert User.objects.filter(email="new@acme.test").count() == 1
    assert Membership.objects.filter(organization=org, user__email="new@acme.test").count() == 1
