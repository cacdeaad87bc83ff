from ninja import Router, Status

from orgconnectors.api.access import OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.schemas import (
    ACCESS_ERRORS,
    INPUT_ERRORS,
    InvitationIn,
    InvitationOut,
    MemberOut,
    MemberRoleIn,
)
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.organizations.invitations import invitation_create
from orgconnectors.organizations.selectors import member_get, members_of
from orgconnectors.organizations.services import membership_change_role, membership_remove

router = Router(tags=["members"])


@router.get(
    "/{org}/members",
    response={200: list[MemberOut], **ACCESS_ERRORS},
    operation_id="member_list",
    summary="The organization's members (owners)",
)
@needs_scope(READ)
def member_list(request, org: str):
    membership = caller_membership(request, org, OWNER)
    return members_of(organization=membership.organization)


@router.post(
    "/{org}/members",
    response={201: InvitationOut, **INPUT_ERRORS},
    operation_id="member_invite",
    summary="Invite someone by email (owners); the link goes to their mailbox only",
)
@needs_scope(ADMIN)
def member_invite(request, org: str, payload: InvitationIn):
    membership = caller_membership(request, org, OWNER)
    # The link's secret is not answered: only the invited mailbox may hold it, since opening
    # it is what proves the address belongs to the person who accepts.
    invitation, _token = invitation_create(
        organization=membership.organization,
        email=payload.email,
        role=payload.role,
        actor=caller_actor(request),
    )
    return Status(
        201,
        {
            "id": invitation.pk,
            "email": invitation.email,
            "role": invitation.role,
            "expires_at": invitation.expires_at,
        },
    )


@router.patch(
    "/{org}/members/{member_id}",
    response={200: MemberOut, **INPUT_ERRORS},
    operation_id="member_update",
    summary="Change a member's role (owners); an organization keeps at least one owner",
)
@needs_scope(ADMIN)
def member_role(request, org: str, member_id: int, payload: MemberRoleIn):
    membership = caller_membership(request, org, OWNER)
    member = member_get(organization=membership.organization, member_id=member_id)
    membership_change_role(membership=member, role=payload.role, actor=caller_actor(request))
    # Read again for connections_in_use, which a move to auditor empties.
    return members_of(organization=membership.organization).get(pk=member.pk)


@router.delete(
    "/{org}/members/{member_id}",
    response={204: None, **INPUT_ERRORS},
    operation_id="member_remove",
    summary="Remove a member and their connections (owners)",
)
@needs_scope(ADMIN)
def member_remove(request, org: str, member_id: int):
    membership = caller_membership(request, org, OWNER)
    member = member_get(organization=membership.organization, member_id=member_id)
    membership_remove(membership=member, actor=caller_actor(request))
    return Status(204, None)
