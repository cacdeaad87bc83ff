"""Invitations: an expiring, single-use link sent by email; accepting creates the account.

The link goes to the invited mailbox and nowhere else (not to the inviter, not to a page), so
whoever opens it has shown they read that mailbox: that is what lets accepting create an account
whose address is verified. An address that already has an account is never given a second one:
its owner signs in, then accepts.
"""

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.text import has_control_characters, one_line
from orgconnectors.encryption import decrypt, encrypt
from orgconnectors.organizations.errors import InvitationInvalid, OrganizationError
from orgconnectors.organizations.models import Invitation, Membership, Organization
from orgconnectors.organizations.services import user_get_or_create
from orgconnectors.outbox.enqueue import enqueue


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.ORGCONNECTORS_BASE_URL + reverse("invitation_accept", args=[token])


def invitation_send(*, invitation_id: int, token_encrypted: str, inviter: str) -> bool:
    """Email the link of a pending invitation (a worker, after the invitation is committed).

    The link's secret reaches the worker encrypted, in the outbox row and the task message
    alike; it is sent only while the invitation is still pending and only to its address.
    Returns whether an email went out."""
    invitation = Invitation.objects.select_related("organization").filter(pk=invitation_id).first()
    if (
        invitation is None
        or invitation.accepted_at
        or invitation.revoked_at
        or invitation.expires_at <= timezone.now()
    ):
        return False
    token = decrypt(token_encrypted)
    if not secrets.compare_digest(_hash(token), invitation.token_hash):
        return False
    _send_invitation(
        email=invitation.email,
        organization_name=invitation.organization.name,
        inviter=inviter,
        url=invitation_url(token),
        expires_at=invitation.expires_at,
    )
    return True


def _send_invitation(*, email: str, organization_name: str, inviter: str, url: str, expires_at):
    send_mail(
        subject=one_line(f"You are invited to {organization_name} on orgconnectors"),
        message=(
            f"{inviter} invited you to {organization_name} on orgconnectors.\n\n"
            f"Accept the invitation: {url}\n\n"
            f"The link works once and expires on {expires_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=None,
        recipient_list=[email],
    )


def invitation_create(
    *, organization: Organization, email: str, role: str, actor: Actor
) -> tuple[Invitation, str]:
    """Returns the invitation and the link's secret, which exists nowhere else after this call."""
    email = email.strip().lower()
    if has_control_characters(email):
        raise OrganizationError(
            "An email address cannot contain line breaks or other control characters.",
            field="email",
        )
    limit = Invitation._meta.get_field("email").max_length
    if len(email) > limit:
        raise OrganizationError(
            f"This address is longer than the {limit} characters an account can have.",
            field="email",
        )
    if role not in Membership.Role.values:
        raise OrganizationError(
            f"{role!r} is not a role; choose owner, member or auditor.", field="role"
        )
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise OrganizationError(f"{email} is already in {organization.name}.", field="email")
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=settings.ORGCONNECTORS_INVITATION_TTL_HOURS)
    with transaction.atomic():
        # A new invitation replaces any pending one for the same address.
        Invitation.objects.filter(
            organization=organization,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            token_hash=_hash(token),
            invited_by=actor.user,
            expires_at=expires_at,
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="invitation.created",
            target=invitation,
            changes={"role": {"before": None, "after": role}},
        )
        enqueue(
            "organizations.invitation_send",
            kwargs={
                "invitation_id": invitation.pk,
                "token_encrypted": encrypt(token),
                "inviter": actor.display,
            },
        )
    return invitation, token


def invitation_revoke(*, invitation: Invitation, actor: Actor) -> None:
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at or invitation.revoked_at:
            return
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            organization=invitation.organization,
            actor=actor,
            action="invitation.revoked",
            target=invitation,
        )


def account_exists_for(email: str) -> bool:
    """Whether someone already signs in with this address (as their login or another address)."""
    return (
        get_user_model().objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )


def invited_address_is_theirs(invitation: Invitation, user) -> bool:
    """The signed-in user signs in with the invited address, or has verified it on their account."""
    if user.email.lower() == invitation.email.lower():
        return True
    return EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists()


def invitation_check(*, token: str) -> Invitation:
    """The pending invitation behind a link, or an error that says why the link no longer works."""
    invitation = (
        Invitation.objects.select_related("organization").filter(token_hash=_hash(token)).first()
    )
    if invitation is None:
        raise InvitationInvalid(
            "This invitation link is not valid. Check that you copied the whole link, "
            "or ask an owner to invite you again."
        )
    if invitation.accepted_at:
        raise InvitationInvalid(
            "This invitation has already been used. Sign in instead, or ask an owner for a new one."
        )
    if invitation.revoked_at:
        raise InvitationInvalid(
            "This invitation was withdrawn or replaced by a newer one. Ask an owner to invite you."
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid(
            f"This invitation expired on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
            "Ask an owner to invite you again."
        )
    return invitation


def account_exists_message(invitation: Invitation) -> str:
    return (
        f"An account for {invitation.email} already exists. Sign in as {invitation.email}, "
        "then open the link again to join."
    )


def invitation_accept(
    *, token: str, user=None, password: str | None = None, actor: Actor | None = None
) -> Membership:
    """Accept as the signed-in `user` (whose email must match), or create the account with
    `password`."""
    with transaction.atomic():
        invitation = invitation_check(token=token)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        # Re-checked under the lock: two clicks on the same link must not both succeed.
        invitation = invitation_check(token=token)
        if user is not None and user.is_authenticated:
            if not invited_address_is_theirs(invitation, user):
                raise InvitationInvalid(
                    f"This invitation is for {invitation.email}, but you are signed in as "
                    f"{user.email}. Sign out and open the link again."
                )
        else:
            # Checked before the password: the owner of an existing account signs in, rather
            # than being offered a second account or a way to replace their password.
            if account_exists_for(invitation.email):
                raise InvitationInvalid(account_exists_message(invitation))
            if not password:
                raise InvitationInvalid("Choose a password for your new account.", field="password")
            user = user_get_or_create(email=invitation.email, password=password)
        actor = actor or Actor(user=user)
        actor = Actor(user=user, ip=actor.ip, user_agent=actor.user_agent)
        if Membership.objects.filter(organization=invitation.organization, user=user).exists():
            raise InvitationInvalid(f"You are already in {invitation.organization.name}.")
        membership = Membership.objects.create(
            user=user, organization=invitation.organization, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(
            organization=invitation.organization,
            actor=actor,
            action="invitation.accepted",
            target=membership,
            changes={"role": {"before": None, "after": invitation.role}},
        )
    return membership
