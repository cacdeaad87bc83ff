"""Groups mapped to roles: owners map a SCIM group to owner, auditor or member, and every SCIM
change gives each provisioned member the role of their most powerful mapped group (owner, then
auditor, then member); people in no mapped group keep the role they have, except those who
leave a mapped group and are in no other, who become members. The change goes
through organizations' `membership_change_role` (an auditor's connections end there), and the
last owner is never demoted by a mapping. Owners see the effect before they save it."""

from django.db import transaction

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.models import ScimGroup, ScimUser
from orgconnectors.organizations.errors import LastOwnerError
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.services import membership_change_role

PRECEDENCE = ("owner", "auditor", "member")


def mapped_role(scim_user: ScimUser, *, override: tuple | None = None) -> str | None:
    """The role the person's groups give them; `override` = (group id, role) as if saved."""
    roles = set()
    for group_id, role in scim_user.groups.values_list("pk", "role"):
        if override is not None and group_id == override[0]:
            role = override[1]
        if role:
            roles.add(role)
    return next((role for role in PRECEDENCE if role in roles), None)


def roles_apply(*, scim_users, actor: Actor, fallback: str | None = None) -> None:
    """Give each active, provisioned member their mapped role (inside the caller's transaction);
    `fallback` is the role of those no mapped group covers any more (people who left one)."""
    for scim_user in scim_users:
        if not scim_user.active or scim_user.user_id is None:
            continue
        role = mapped_role(scim_user) or fallback
        membership = Membership.objects.filter(
            organization_id=scim_user.organization_id, user_id=scim_user.user_id
        ).first()
        if role is None or membership is None or membership.role == role:
            continue
        try:
            membership_change_role(membership=membership, role=role, actor=actor)
        except LastOwnerError:
            continue  # the organization keeps its last owner


def group_role_preview(*, group: ScimGroup, role: str) -> list[dict]:
    """Whose role would change if `group` were mapped to `role`: [{email, before, after}]."""
    changes = []
    for scim_user in group.members.filter(active=True, user__isnull=False).select_related("user"):
        membership = Membership.objects.filter(
            organization_id=group.organization_id, user_id=scim_user.user_id
        ).first()
        after = mapped_role(scim_user, override=(group.pk, role))
        if membership is not None and after and after != membership.role:
            changes.append(
                {"email": scim_user.user.email, "before": membership.role, "after": after}
            )
    return sorted(changes, key=lambda change: change["email"])


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
        roles_apply(scim_users=list(group.members.all()), actor=actor)
    return group
