import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.text import NO_CONTROL_CHARACTERS, has_control_characters
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.organizations.errors import LastOwnerError, OrganizationError
from orgconnectors.organizations.membership_signals import (
    membership_connections_ending,
    membership_ended,
    membership_role_changed,
)
from orgconnectors.organizations.models import Membership, Organization, Plan

Role = Membership.Role


def plan_get(*, code: str) -> Plan:
    try:
        return Plan.objects.get(code=code)
    except Plan.DoesNotExist:
        known = ", ".join(Plan.objects.values_list("code", flat=True))
        raise OrganizationError(
            f"There is no plan {code!r}; choose one of: {known}.", field="plan"
        ) from None


def user_get_or_create(*, email: str, password: str | None = None):
    """The account for an email address, created (with its allauth address) when new."""
    User = get_user_model()
    email = User.objects.normalize_email(email).lower()
    if not email or "@" not in email or len(email) > 254:
        raise OrganizationError(
            f"{email[:60]!r} is not a usable email address (at most 254 characters).",
            field="email",
        )
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password)
        if password is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"primary": True, "verified": True}
    )
    return user


def organization_create(*, slug: str, name: str, plan: Plan, owner, actor: Actor) -> Organization:
    slug = slugify(slug)
    if not slug:
        raise OrganizationError("The slug must contain letters or digits.", field="slug")
    if not name.strip():
        raise OrganizationError("The organization needs a name.", field="name")
    if has_control_characters(name):
        # The name is in the subject of invitation emails.
        raise OrganizationError(NO_CONTROL_CHARACTERS, field="name")
    try:
        with transaction.atomic():
            organization = Organization.objects.create(slug=slug, name=name.strip(), plan=plan)
            membership = Membership.objects.create(
                user=owner, organization=organization, role=Role.OWNER
            )
            audit_record(
                organization=organization,
                actor=actor,
                action="organization.created",
                target=organization,
                changes={"plan": {"before": None, "after": plan.code}},
            )
            audit_record(
                organization=organization,
                actor=actor,
                action="membership.added",
                target=membership,
                changes={"role": {"before": None, "after": Role.OWNER}},
            )
    except IntegrityError:
        raise OrganizationError(
            f"The slug {slug!r} is already taken; choose another.", field="slug"
        ) from None
    return organization


def organization_create_personal(*, user) -> Organization:
    """An individual account is an organization of one, on the Free plan until upgraded."""
    base = slugify(user.email.split("@")[0])[:40] or "account"
    for _ in range(5):
        slug = f"{base}-{secrets.token_hex(3)}"
        if not Organization.objects.filter(slug=slug).exists():
            break
    return organization_create(
        slug=slug,
        name=f"{user.email} (personal)",
        plan=plan_get(code="free"),
        owner=user,
        actor=Actor(user=user),
    )


@retry_on_conflict
def membership_add(
    *,
    organization: Organization,
    user,
    role: str,
    actor: Actor,
    action: str = "membership.added",
) -> Membership:
    """Add `user` with `role`; `action` names how they came in (e.g. a single sign-on join), so
    one join is one audit event."""
    if role not in Role.values:
        raise OrganizationError(
            f"{role!r} is not a role; choose owner, member or auditor.", field="role"
        )
    with transaction.atomic():
        if Membership.objects.filter(organization=organization, user=user).exists():
            raise OrganizationError(
                f"{user.email} is already in {organization.name}.", field="email"
            )
        membership = Membership.objects.create(user=user, organization=organization, role=role)
        audit_record(
            organization=organization,
            actor=actor,
            action=action,
            target=membership,
            changes={"role": {"before": None, "after": role}},
        )
    return membership


def _lock_owners(organization: Organization) -> list[int]:
    # Locking every owner row serialises concurrent demotions/removals, so two owners cannot
    # remove each other at the same moment and leave nobody in charge.
    return list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@retry_on_conflict
def membership_change_role(*, membership: Membership, role: str, actor: Actor) -> Membership:
    if role not in Role.values:
        raise OrganizationError(
            f"{role!r} is not a role; choose owner, member or auditor.", field="role"
        )
    with transaction.atomic():
        owners = _lock_owners(membership.organization)
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == role:
            return membership
        if membership.role == Role.OWNER and owners == [membership.pk]:
            raise LastOwnerError(
                f"{membership.user.email} is the only owner of {membership.organization.name}; "
                "make someone else an owner first.",
                field="role",
            )
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        if role == Role.AUDITOR:
            # Auditors change nothing, so they hold no connections; their tokens are revoked
            # at the servers after commit (by the receivers of the signal).
            membership_connections_ending.send(
                sender=Membership, membership=membership, actor=actor
            )
            membership.connections.all().delete()
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="membership.role_changed",
            target=membership,
            changes={"role": {"before": before, "after": role}},
        )
        membership_role_changed.send(
            sender=Membership, membership=membership, before=before, after=role, actor=actor
        )
    return membership


def membership_approver_set(*, membership: Membership, approver: bool, actor: Actor) -> Membership:
    """An owner names a member as an approver of calls waiting for approval (or no longer)."""
    if approver and membership.role != Role.MEMBER:
        raise OrganizationError(
            "Only members can be named approvers: owners always answer calls waiting for "
            "approval, and auditors only read.",
            field="approver",
        )
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.is_approver == approver:
            return membership
        membership.is_approver = approver
        membership.save(update_fields=["is_approver"])
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="membership.approver_changed",
            target=membership,
            changes={"approver": approver},
        )
    return membership


@retry_on_conflict
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    with transaction.atomic():
        owners = _lock_owners(membership.organization)
        if membership.role == Role.OWNER and owners == [membership.pk]:
            raise LastOwnerError(
                f"{membership.user.email} is the only owner of {membership.organization.name}; "
                "make someone else an owner before removing them."
            )
        # Locked before its connections, as connect and disconnect do; the tokens it holds
        # are revoked at the servers after commit.
        membership = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("organization", "user")
            .filter(pk=membership.pk)
            .first()
        )
        if membership is None:
            return  # removed meanwhile, by another owner
        membership_end(membership=membership, actor=actor)


def membership_end(*, membership: Membership, actor: Actor) -> None:
    """End a membership inside the caller's transaction, the membership row locked by the
    caller: its connections' tokens are revoked at the servers after commit (by the receivers of
    `membership_connections_ending`), its API tokens by the receivers of `membership_ended`, and
    the trail records it. The last-owner rule is the caller's to decide (`membership_remove`, or
    deleting a person who is alone)."""
    membership_connections_ending.send(sender=Membership, membership=membership, actor=actor)
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="membership.removed",
        target=membership,
        changes={
            "role": {"before": membership.role, "after": None},
            "connections": {"before": membership.connections.count(), "after": 0},
        },
    )
    membership_ended.send(sender=Membership, membership=membership, actor=actor)
    membership.delete()
