"""Owners ask the operator for another plan; the plan itself is not theirs to change."""

from ninja import Router, Status

from orgconnectors.api.access import OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.plan_schemas import PlanRequestIn, PlanRequestOut
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS
from orgconnectors.api.scopes import ADMIN
from orgconnectors.core.errors import NotAllowed
from orgconnectors.organizations.plan_requests import (
    PLANS_BELONG_TO_THE_OPERATOR,
    plan_change_request_create,
)
from orgconnectors.organizations.services import plan_get

router = Router(tags=["plan"])


@router.post(
    "/{org}/plan-requests",
    response={201: PlanRequestOut, **INPUT_ERRORS},
    operation_id="plan_request_create",
    summary="Ask the operator for another plan or limit (owners); the operator is emailed",
)
@needs_scope(ADMIN)
def plan_request_create(request, org: str, payload: PlanRequestIn):
    membership = caller_membership(request, org, OWNER)
    plan_request = plan_change_request_create(
        organization=membership.organization,
        plan=plan_get(code=payload.plan),
        connection_limit=payload.connection_limit,
        message=payload.message,
        actor=caller_actor(request),
    )
    return Status(
        201,
        {
            "id": plan_request.pk,
            "plan": plan_request.plan.code,
            "connection_limit": plan_request.connection_limit,
            "message": plan_request.message,
            "status": plan_request.status,
            "requested_by": plan_request.requested_by_email,
            "created_at": plan_request.created_at,
        },
    )


@router.put(
    "/{org}/plan",
    response={**ACCESS_ERRORS},
    operation_id="plan_set",
    summary="Not for organizations: plans are set by the operator; see plan-requests",
)
@needs_scope(ADMIN)
def plan_set(request, org: str):
    membership = caller_membership(request, org)
    raise NotAllowed(PLANS_BELONG_TO_THE_OPERATOR.replace("{org}", membership.organization.slug))
