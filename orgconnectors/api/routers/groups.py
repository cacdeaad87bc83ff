"""Groups: both kinds read, dashboard groups made and changed (owners). The same services as
the Groups page (identity/dashboard_groups.py)."""

from ninja import Router, Status

from orgconnectors.api.access import OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.group_schemas import GroupCreateIn, GroupMembersIn, GroupOut
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.identity.dashboard_groups import (
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_rename,
)
from orgconnectors.identity.selectors import group_get, groups_of

router = Router(tags=["identity"])


def _group(membership, group_id: str):
    return group_get(organization=membership.organization, group_id=group_id)


@router.get(
    "/{org}/groups",
    response={200: list[GroupOut], **ACCESS_ERRORS},
    operation_id="group_list",
    summary="The organization's groups, SCIM's and the dashboard's (owners)",
)
@needs_scope(READ)
def group_list(request, org: str):
    membership = caller_membership(request, org, OWNER)
    return list(groups_of(organization=membership.organization))


@router.post(
    "/{org}/groups",
    response={201: GroupOut, **INPUT_ERRORS},
    operation_id="group_create",
    summary="Make a group in the dashboard (owners); the identity provider never sees it",
)
@needs_scope(ADMIN)
def group_create_view(request, org: str, payload: GroupCreateIn):
    membership = caller_membership(request, org, OWNER)
    group = group_create(
        organization=membership.organization,
        name=payload.display_name,
        actor=caller_actor(request),
    )
    return Status(201, _group(membership, group.pk))


@router.get(
    "/{org}/groups/{group_id}",
    response={200: GroupOut, **ACCESS_ERRORS},
    operation_id="group_get",
    summary="One group and its people (owners)",
)
@needs_scope(READ)
def group_detail(request, org: str, group_id: str):
    membership = caller_membership(request, org, OWNER)
    return _group(membership, group_id)


@router.patch(
    "/{org}/groups/{group_id}",
    response={200: GroupOut, **INPUT_ERRORS},
    operation_id="group_rename",
    summary="Rename a dashboard group (owners); a SCIM group changes at the identity provider",
)
@needs_scope(ADMIN)
def group_rename_view(request, org: str, group_id: str, payload: GroupCreateIn):
    membership = caller_membership(request, org, OWNER)
    group = group_rename(
        group=_group(membership, group_id), name=payload.display_name, actor=caller_actor(request)
    )
    return _group(membership, group.pk)


@router.delete(
    "/{org}/groups/{group_id}",
    response={204: None, **INPUT_ERRORS},
    operation_id="group_delete",
    summary="Delete a dashboard group (owners)",
    description="Its people lose the connections only this group let them hold; connectors "
    "limited to it stay limited to their other groups.",
)
@needs_scope(ADMIN)
def group_delete_view(request, org: str, group_id: str):
    membership = caller_membership(request, org, OWNER)
    group_delete(group=_group(membership, group_id), actor=caller_actor(request))
    return Status(204, None)


@router.post(
    "/{org}/groups/{group_id}/members",
    response={200: GroupOut, **INPUT_ERRORS},
    operation_id="group_members_add",
    summary="Add members to a dashboard group (owners); those already in it stay",
)
@needs_scope(ADMIN)
def group_members_add_view(request, org: str, group_id: str, payload: GroupMembersIn):
    membership = caller_membership(request, org, OWNER)
    group_members_add(
        group=_group(membership, group_id),
        membership_ids=payload.member_ids,
        actor=caller_actor(request),
    )
    return _group(membership, group_id)


@router.delete(
    "/{org}/groups/{group_id}/members/{member_id}",
    response={200: GroupOut, **INPUT_ERRORS},
    operation_id="group_members_remove",
    summary="Remove a member from a dashboard group (owners)",
    description="They lose the connections only this group let them hold.",
)
@needs_scope(ADMIN)
def group_members_remove_view(request, org: str, group_id: str, member_id: int):
    membership = caller_membership(request, org, OWNER)
    group_members_remove(
        group=_group(membership, group_id), membership_ids=[member_id], actor=caller_actor(request)
    )
    return _group(membership, group_id)
