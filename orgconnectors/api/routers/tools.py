"""Tool governance: a connector's approved listing and each tool's review (everyone reads it),
owners' approvals and blocks, and the changes health checks found (owners and auditors)."""

from ninja import Query, Router

from orgconnectors.api.access import (
    AUDITOR,
    MEMBER,
    OWNER,
    caller_actor,
    caller_membership,
    needs_scope,
)
from orgconnectors.api.schemas import INPUT_ERRORS
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.api.tool_schemas import (
    StaleToolHashOut,
    ToolApproveIn,
    ToolBlockIn,
    ToolChangePageOut,
    ToolChangeQuery,
    ToolListingOut,
    listing_out,
)
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.connectors.tool_approvals import tools_approve, tools_block
from orgconnectors.connectors.tool_selectors import (
    connector_tool_listing,
    tool_changes_page,
    tool_listing_of,
)

router = Router(tags=["tool governance"])

ANY_ROLE = (OWNER, MEMBER, AUDITOR)
REVIEW_ERRORS = {**INPUT_ERRORS, 409: StaleToolHashOut}


@router.get(
    "/{org}/connectors/{connector_id}/tools",
    response={200: ToolListingOut, **INPUT_ERRORS},
    operation_id="connector_tool_listing",
    summary="A connector's approved tool listing and the review of every tool",
    description="Every tool the server lists or the approved listing holds: its definition now, "
    "its review (approved, new, changed, removed), whether members get it, and for a changed "
    "tool the approved definition beside the current one.",
)
@needs_scope(READ)
def connector_tool_listing_get(request, org: str, connector_id: int):
    membership = caller_membership(request, org, *ANY_ROLE)
    view = connector_tool_listing(organization=membership.organization, connector_id=connector_id)
    return listing_out(view)


@router.post(
    "/{org}/connectors/{connector_id}/tools/approve",
    response={200: ToolListingOut, **REVIEW_ERRORS},
    operation_id="connector_tools_approve",
    summary="Approve tools' current definitions (owners): a new version of the approved listing",
    description='Name the tools (with the hash of the definition you reviewed) or send "all": '
    "true for every tool waiting. A tool the server changed again since the hash you send is "
    "refused with 409 and its current hash; nothing is approved then.",
)
@needs_scope(ADMIN)
def connector_tools_approve(request, org: str, connector_id: int, payload: ToolApproveIn):
    membership = caller_membership(request, org, OWNER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    tools_approve(
        connector=connector,
        actor=caller_actor(request),
        tools=None if payload.all else payload.refs(),
        every_pending=payload.all,
    )
    return listing_out(_reread(membership, connector_id))


@router.post(
    "/{org}/connectors/{connector_id}/tools/block",
    response={200: ToolListingOut, **REVIEW_ERRORS},
    operation_id="connector_tools_block",
    summary="Review tools and block them (owners)",
    description="The tool policy blocks them, their changes are closed as blocked and their "
    "current definitions are recorded as reviewed.",
)
@needs_scope(ADMIN)
def connector_tools_block(request, org: str, connector_id: int, payload: ToolBlockIn):
    membership = caller_membership(request, org, OWNER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    tools_block(connector=connector, actor=caller_actor(request), tools=payload.refs())
    return listing_out(_reread(membership, connector_id))


def _reread(membership, connector_id):
    # The services lock and change the row; read it again, with its overrides, as it is now.
    return tool_listing_of(
        connector_get(organization=membership.organization, connector_id=connector_id)
    )


@router.get(
    "/{org}/tool-changes",
    response={200: ToolChangePageOut, **INPUT_ERRORS},
    operation_id="tool_change_list",
    summary="Every change health checks found in connectors' tools, newest first (owners, "
    "auditors)",
)
@needs_scope(READ)
def tool_change_list(request, org: str, query: Query[ToolChangeQuery]):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    return tool_changes_page(
        organization=membership.organization,
        connector_id=query.connector,
        state=query.state or "",
        cursor=query.cursor,
        limit=query.limit,
    )
