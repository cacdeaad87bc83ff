"""Provisioning by the organization's identity provider (SCIM): people and groups, created,
replaced, deactivated and deleted. A person's membership follows their SCIM record: it is
added when the record is active and ended, through organizations' own `membership_end` (their
connections end, their tokens are revoked at the servers, their API tokens stop), in the same
transaction as the SCIM event, when it is deactivated or deleted."""

import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.errors import ScimError
from orgconnectors.identity.group_roles import roles_apply
from orgconnectors.identity.models import ScimGroup, ScimUser
from orgconnectors.identity.signals import scim_group_members_removed
from orgconnectors.organizations.models import Membership, Organization
from orgconnectors.organizations.services import membership_add, membership_end, user_get_or_create

Role = Membership.Role


@dataclass(frozen=True)
class ScimPerson:
    """What the SCIM layer parsed out of a User resource; `document` is the resource as sent,
    without its id, meta, groups or password. `active` is false only when the provider says so."""

    user_name: str
    external_id: str
    active: bool
    emails: list[str]
    document: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ScimTeam:
    display_name: str
    external_id: str
    member_ids: list[str]
    document: dict = field(default_factory=dict)


def _account_email(person: ScimPerson) -> str | None:
    for email in [*person.emails, person.user_name]:
        if "@" in email:
            return email
    return None


def _link_account(scim_user: ScimUser, person: ScimPerson) -> None:
    """Find or create the person's account by the first email address the provider sends; a
    record without one stays without an account (and so without a membership) until it does."""
    if scim_user.user_id is not None:
        return
    email = _account_email(person)
    if email is None:
        return
    user = user_get_or_create(email=email)
    if ScimUser.objects.filter(organization=scim_user.organization, user=user).exists():
        raise ScimError(
            f"{user.email} is already provisioned in this organization.",
            status=409,
            scim_type="uniqueness",
        )
    scim_user.user = user


def _check_user_name_free(organization: Organization, user_name: str, *, but=None) -> None:
    taken = ScimUser.objects.annotate(lower=Lower("user_name")).filter(
        organization=organization, lower=user_name.lower()
    )
    if but is not None:
        taken = taken.exclude(pk=but.pk)
    if taken.exists():
        raise ScimError(
            f"The userName {user_name!r} is already provisioned in this organization.",
            status=409,
            scim_type="uniqueness",
        )


def _membership_start(scim_user: ScimUser, actor: Actor) -> None:
    if scim_user.user_id is None:
        return
    exists = Membership.objects.filter(
        organization=scim_user.organization, user=scim_user.user
    ).exists()
    if not exists:
        try:
            membership_add(
                organization=scim_user.organization,
                user=scim_user.user,
                role=Role.MEMBER,
                actor=actor,
            )
        except ServiceError as error:
            raise ScimError(error.message) from error


def _membership_stop(scim_user: ScimUser, actor: Actor) -> int:
    """End the person's membership, as an owner removing them would; the last owner stays."""
    organization = scim_user.organization
    if scim_user.user_id is None:
        return 0
    owners = list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.OWNER)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("organization", "user")
        .filter(organization=organization, user=scim_user.user)
        .first()
    )
    if membership is None:
        return 0
    if membership.role == Role.OWNER and owners == [membership.pk]:
        raise ScimError(
            f"{scim_user.user.email} is the only owner of {organization.name}; make someone "
            "else an owner before deprovisioning them.",
            status=409,
            scim_type="mutability",
        )
    ended = membership.pk
    membership_end(membership=membership, actor=actor)
    return ended


@transaction.atomic
def scim_user_create(*, organization: Organization, person: ScimPerson, actor: Actor) -> ScimUser:
    _check_user_name_free(organization, person.user_name)
    scim_user = ScimUser(
        organization=organization,
        user_name=person.user_name,
        external_id=person.external_id,
        active=person.active,
        document=person.document,
    )
    _link_account(scim_user, person)
    scim_user.save()
    if person.active:
        _membership_start(scim_user, actor)
    audit_record(
        organization=organization,
        actor=actor,
        action="scim.user_provisioned",
        target=scim_user,
        changes={"active": {"before": None, "after": person.active}},
    )
    return scim_user


@transaction.atomic
def scim_user_replace(*, scim_user: ScimUser, person: ScimPerson, actor: Actor) -> ScimUser:
    """Replace what the provider said of a person; `active` turning false ends their membership,
    turning true adds it back. The account's own email is not changed from here: the account may
    belong to other organizations too."""
    scim_user = (
        ScimUser.objects.select_for_update(of=("self",))
        .select_related("organization", "user")
        .get(pk=scim_user.pk)
    )
    _check_user_name_free(scim_user.organization, person.user_name, but=scim_user)
    before = scim_user.active
    linked_before = scim_user.user_id is not None
    _link_account(scim_user, person)
    scim_user.user_name = person.user_name
    scim_user.external_id = person.external_id
    scim_user.active = person.active
    scim_user.document = person.document
    scim_user.version += 1
    scim_user.save()
    changes = {"active": {"before": before, "after": person.active}}
    common = {"organization": scim_user.organization, "actor": actor, "target": scim_user}
    if before and not person.active:
        _membership_stop(scim_user, actor)
        audit_record(action="scim.user_deactivated", changes=changes, **common)
    elif person.active and not before:
        _membership_start(scim_user, actor)
        audit_record(action="scim.user_reactivated", changes=changes, **common)
    else:
        if person.active and not linked_before:
            _membership_start(scim_user, actor)
        audit_record(action="scim.user_updated", changes=changes, **common)
    roles_apply(scim_users=[scim_user], actor=actor)
    return scim_user


@transaction.atomic
def scim_user_delete(*, scim_user: ScimUser, actor: Actor) -> None:
    scim_user = (
        ScimUser.objects.select_for_update(of=("self",))
        .select_related("organization", "user")
        .filter(pk=scim_user.pk)
        .first()
    )
    if scim_user is None:
        return
    _membership_stop(scim_user, actor)
    audit_record(
        organization=scim_user.organization,
        actor=actor,
        action="scim.user_deleted",
        target=scim_user,
        changes={"active": {"before": scim_user.active, "after": None}},
    )
    scim_user.delete()


def _members(organization: Organization, member_ids: list[str]) -> list[ScimUser]:
    wanted = {str(member_id) for member_id in member_ids}
    found = list(ScimUser.objects.filter(organization=organization, pk__in=_uuids(wanted)))
    missing = wanted - {str(user.pk) for user in found}
    if missing:
        raise ScimError(
            f"There is no user {sorted(missing)[0]!r} in this organization.",
            scim_type="invalidValue",
        )
    return found


def _uuids(values):
    ids = []
    for value in values:
        try:
            ids.append(str(uuid.UUID(value)))
        except ValueError:
            raise ScimError(
                f"{value!r} is not the id of a user of this organization.",
                scim_type="invalidValue",
            ) from None
    return ids


def _membership_changes(before: set, after: set) -> dict:
    return {
        "members": {
            "added": sorted(str(pk) for pk in after - before),
            "removed": sorted(str(pk) for pk in before - after),
        }
    }


@transaction.atomic
def scim_group_create(*, organization: Organization, team: ScimTeam, actor: Actor) -> ScimGroup:
    members = _members(organization, team.member_ids)
    group = ScimGroup.objects.create(
        organization=organization,
        display_name=team.display_name,
        external_id=team.external_id,
        document=team.document,
    )
    group.members.set(members)
    audit_record(
        organization=organization,
        actor=actor,
        action="scim.group_provisioned",
        target=group,
        changes=_membership_changes(set(), {m.pk for m in members}),
    )
    roles_apply(scim_users=members, actor=actor)
    return group


@transaction.atomic
def scim_group_replace(*, group: ScimGroup, team: ScimTeam, actor: Actor) -> ScimGroup:
    group = ScimGroup.objects.select_for_update().select_related("organization").get(pk=group.pk)
    members = _members(group.organization, team.member_ids)
    before = set(group.members.values_list("pk", flat=True))
    group.display_name = team.display_name
    group.external_id = team.external_id
    group.document = team.document
    group.version += 1
    group.save()
    group.members.set(members)
    audit_record(
        organization=group.organization,
        actor=actor,
        action="scim.group_updated",
        target=group,
        changes=_membership_changes(before, {m.pk for m in members}),
    )
    _members_removed(group, before - {m.pk for m in members}, actor)
    roles_apply(scim_users=members, actor=actor)
    if group.role:
        left = ScimUser.objects.filter(pk__in=before - {m.pk for m in members})
        roles_apply(scim_users=list(left), actor=actor, fallback=Role.MEMBER)
    return group


def _members_removed(group: ScimGroup, scim_user_ids: set, actor: Actor) -> None:
    if not scim_user_ids:
        return
    user_ids = list(
        ScimUser.objects.filter(pk__in=scim_user_ids, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    if user_ids:
        scim_group_members_removed.send(
            sender=ScimGroup, group=group, user_ids=user_ids, actor=actor
        )


@transaction.atomic
def scim_group_delete(*, group: ScimGroup, actor: Actor) -> None:
    group = (
        ScimGroup.objects.select_for_update()
        .select_related("organization")
        .filter(pk=group.pk)
        .first()
    )
    if group is None:
        return
    before = set(group.members.values_list("pk", flat=True))
    audit_record(
        organization=group.organization,
        actor=actor,
        action="scim.group_deleted",
        target=group,
        changes=_membership_changes(before, set()),
    )
    group.members.clear()
    _members_removed(group, before, actor)
    mapped = bool(group.role)
    group.delete()
    if mapped:
        left = ScimUser.objects.filter(pk__in=before)
        roles_apply(scim_users=list(left), actor=actor, fallback=Role.MEMBER)
