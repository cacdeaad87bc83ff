"""Groups mapped to roles: owners map a group (SCIM's or the dashboard's) to owner, auditor or
member, and every change to a group gives each of its people the role of their most powerful
mapped group (owner, then auditor, then member); people in no mapped group keep the role they
have, except those who leave a mapped group and are in no other, who become members. The change
goes through organizations' `membership_change_role` (an auditor's connections end there), and
the last owner is never demoted by a mapping. Owners see the effect before they save it."""

from django.db import transaction
from django.db.models import Q

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.models import ScimGroup, ScimUser
from orgconnectors.organizations.errors import LastOwnerError
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.services import membership_change_role

PRECEDENCE = ("owner", "auditor", "member")


def _groups_of_person(organization_id: int, user_id: int):
    """The groups, of both kinds, the account is in within the organization."""
    return ScimGroup.objects.filter(
        Q(source=ScimGroup.Source.SCIM, members__user_id=user_id)
        | Q(source=ScimGroup.Source.DASHBOARD, dashboard_members__user_id=user_id),
        organization_id=organization_id,
    ).distinct()


def mapped_role_of(
    *, organization_id: int, user_id: int, override: tuple | None = None
) -> str | None:
    """The role the person's groups give them; `override` = (group id, role) as if saved."""
    roles = set()
    for group_id, role in _groups_of_person(organization_id, user_id).values_list("pk", "role"):
        if override is not None and group_id == override[0]:
            role = override[1]
        if role:
            roles.add(role)
    return next((role for role in PRECEDENCE if role in roles), None)


def mapped_role(scim_user: ScimUser, *, override: tuple | None = None) -> str | None:
    if scim_user.user_id is None:
        return None
    return mapped_role_of(
        organization_id=scim_user.organization_id, user_id=scim_user.user_id, override=override
    )


def _role_apply(membership: Membership, actor: Actor, fallback: str | None) -> None:
    role = (
        mapped_role_of(organization_id=membership.organization_id, user_id=membership.user_id)
        or fallback
    )
    if role is None or membership.role == role:
        return
    try:
        membership_change_role(membership=membership, role=role, actor=actor)
    except LastOwnerError:
        return  # the organization keeps its last owner


def roles_apply(*, scim_users, actor: Actor, fallback: str | None = None) -> None:
    """Give each active, provisioned member their mapped role (inside the caller's transaction);
    `fallback` is the role of those no mapped group covers any more (people who left one)."""
    for scim_user in scim_users:
        if not scim_user.active or scim_user.user_id is None:
            continue
        membership = Membership.objects.filter(
            organization_id=scim_user.organization_id, user_id=scim_user.user_id
        ).first()
        if membership is not None:
            _role_apply(membership, actor, fallback)


def membership_roles_apply(*, memberships, actor: Actor, fallback: str | None = None) -> None:
    """As `roles_apply`, for the people of a dashboard group (memberships, SCIM or not)."""
    for membership in memberships:
        fresh = Membership.objects.filter(pk=membership.pk).first()
        if fresh is not None:
            _role_apply(fresh, actor, fallback)


def group_people(group: ScimGroup) -> list[tuple[int, str]]:
    """(account id, email) of each person a group holds: a SCIM group's active, linked SCIM
    users, a dashboard group's memberships."""
    if group.is_dashboard:
        rows = group.dashboard_members.select_related("user")
        return [(row.user_id, row.user.email) for row in rows]
    rows = group.members.filter(active=True, user__isnull=False).select_related("user")
    return [(row.user_id, row.user.email) for row in rows]


def group_role_preview(*, group: ScimGroup, role: str) -> list[dict]:
    """Whose role would change if `group` were mapped to `role`: [{email, before, after}]."""
    changes = []
    for user_id, email in group_people(group):
        membership = Membership.objects.filter(
            organization_id=group.organization_id, user_id=user_id
        ).first()
        after = mapped_role_of(
            organization_id=group.organization_id, user_id=user_id, override=(group.pk, role)
        )
        if membership is not None and after and after != membership.role:
            changes.append({"email": email, "before": membership.role, "after": after})
    return sorted(changes, key=lambda change: change["email"])


def group_roles_apply(*, group: ScimGroup, actor: Actor) -> None:
    """Give the group's people their mapped roles (inside the caller's transaction)."""
    if group.is_dashboard:
        membership_roles_apply(memberships=list(group.dashboard_members.all()), actor=actor)
    else:
        roles_apply(scim_users=list(group.members.all()), actor=actor)


def group_role_set(*, group: ScimGroup, role: str, actor: Actor) -> ScimGroup:
    if role not in ("", *PRECEDENCE):
        raise ServiceError(
            f"{role!r} is not a role; choose owner, auditor, member or none.", field="role"
        )
    with transaction.atomic():
        group = (
            ScimGroup.objects.select_for_update().select_related("organization").get(pk=group.pk)
        )
        before = group.role
        group.role = role
        group.save(update_fields=["role"])
        audit_record(
            organization=group.organization,
            actor=actor,
            action="scim.group_role_changed",
            target=group,
            changes={"role": {"before": before or None, "after": role or None}},
        )
        group_roles_apply(group=group, actor=actor)
    return group
