"""Groups owners make in the dashboard: named sets of the organization's members (with or
without a SCIM record) that open connectors and map to roles as SCIM groups do. The identity
provider neither sees nor changes them, and owners change a SCIM group's people only at the
provider. Removing people from a group, or deleting it, ends the connections only it let them
hold (the connectors app receives `scim_group_members_removed`, as for SCIM groups)."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models.functions import Lower

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.group_roles import membership_roles_apply
from orgconnectors.identity.models import ScimGroup
from orgconnectors.identity.signals import scim_group_members_removed
from orgconnectors.organizations.models import Membership, Organization

NAME_MAX = 254


def _clean_name(organization: Organization, name: str, *, but: ScimGroup | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError("Give the group a name.", field="name")
    if len(name) > NAME_MAX:
        raise ServiceError(f"A group's name is at most {NAME_MAX} characters.", field="name")
    taken = ScimGroup.objects.annotate(lower=Lower("display_name")).filter(
        organization=organization, lower=name.lower()
    )
    if but is not None:
        taken = taken.exclude(pk=but.pk)
    if taken.exists():
        raise ServiceError(
            f"There is already a group named “{name}” in this organization.", field="name"
        )
    return name


def _editable(group: ScimGroup) -> ScimGroup:
    """The group, locked, when the dashboard may change it."""
    group = ScimGroup.objects.select_for_update().select_related("organization").get(pk=group.pk)
    if not group.is_dashboard:
        raise ServiceError(
            f"“{group.display_name}” is managed by your identity provider: change it there.",
            field="group",
        )
    return group


def _memberships(group: ScimGroup, membership_ids: Iterable) -> list[Membership]:
    wanted = set()
    for value in membership_ids or []:
        if not str(value).isdigit():
            raise ServiceError(f"{value!r} is not a member of this organization.", field="members")
        wanted.add(int(value))
    if not wanted:
        raise ServiceError("Choose at least one member.", field="members")
    found = list(
        Membership.objects.filter(organization_id=group.organization_id, pk__in=wanted)
        .select_related("user")
        .order_by("pk")
    )
    missing = wanted - {membership.pk for membership in found}
    if missing:
        raise ServiceError(
            f"There is no member {min(missing)} in this organization.", field="members"
        )
    return found


def _people_changes(added: list[Membership], removed: list[Membership]) -> dict:
    return {
        "members": {
            "added": sorted(m.user.email for m in added),
            "removed": sorted(m.user.email for m in removed),
        }
    }


def _removed(group: ScimGroup, memberships: list[Membership], actor: Actor) -> None:
    """Inside the transaction: the connectors app ends the connections only this group let
    them hold, and people of a mapped group who are in no other mapped one become members."""
    if not memberships:
        return
    scim_group_members_removed.send(
        sender=ScimGroup, group=group, user_ids=[m.user_id for m in memberships], actor=actor
    )
    if group.role:
        membership_roles_apply(memberships=memberships, actor=actor, fallback="member")


def group_create(*, organization: Organization, name: str, actor: Actor) -> ScimGroup:
    with transaction.atomic():
        group = ScimGroup.objects.create(
            organization=organization,
            source=ScimGroup.Source.DASHBOARD,
            display_name=_clean_name(organization, name),
        )
        audit_record(
            organization=organization,
            actor=actor,
            action="group.created",
            target=group,
            changes={"name": {"before": None, "after": group.display_name}},
        )
    return group


def group_rename(*, group: ScimGroup, name: str, actor: Actor) -> ScimGroup:
    with transaction.atomic():
        group = _editable(group)
        before = group.display_name
        group.display_name = _clean_name(group.organization, name, but=group)
        group.version += 1
        group.save(update_fields=["display_name", "version", "updated_at"])
        audit_record(
            organization=group.organization,
            actor=actor,
            action="group.renamed",
            target=group,
            changes={"name": {"before": before, "after": group.display_name}},
        )
    return group


def group_members_add(*, group: ScimGroup, membership_ids: Iterable, actor: Actor) -> ScimGroup:
    with transaction.atomic():
        group = _editable(group)
        wanted = _memberships(group, membership_ids)
        present = set(group.dashboard_members.values_list("pk", flat=True))
        added = [membership for membership in wanted if membership.pk not in present]
        if added:
            group.dashboard_members.add(*added)
            group.version += 1
            group.save(update_fields=["version", "updated_at"])
            audit_record(
                organization=group.organization,
                actor=actor,
                action="group.members_added",
                target=group,
                changes=_people_changes(added, []),
            )
            membership_roles_apply(memberships=added, actor=actor)
    return group


def group_members_remove(*, group: ScimGroup, membership_ids: Iterable, actor: Actor) -> ScimGroup:
    with transaction.atomic():
        group = _editable(group)
        wanted = _memberships(group, membership_ids)
        present = set(group.dashboard_members.values_list("pk", flat=True))
        removed = [membership for membership in wanted if membership.pk in present]
        if removed:
            group.dashboard_members.remove(*removed)
            group.version += 1
            group.save(update_fields=["version", "updated_at"])
            audit_record(
                organization=group.organization,
                actor=actor,
                action="group.members_removed",
                target=group,
                changes=_people_changes([], removed),
            )
            _removed(group, removed, actor)
    return group


def group_delete(*, group: ScimGroup, actor: Actor) -> None:
    """Delete a dashboard group. Connectors it opened stay limited to their other groups: its
    people lose the connections only it let them hold, as when they leave it (a connector left
    with no group is open to nobody until owners choose again)."""
    with transaction.atomic():
        group = _editable(group)
        people = list(group.dashboard_members.select_related("user").order_by("pk"))
        connectors = sorted(group.connectors.values_list("name", flat=True))
        audit_record(
            organization=group.organization,
            actor=actor,
            action="group.deleted",
            target=group,
            changes={
                "name": {"before": group.display_name, "after": None},
                "connectors": {"before": connectors, "after": []},
                **_people_changes([], people),
            },
        )
        group.dashboard_members.clear()
        _removed(group, people, actor)
        group.delete()
