"""The operator API: plans and limits of any organization, for the deployment's operators.

Authenticated only by an operator token (organizations/operator_tokens.py); an organization's
API token or a dashboard session is refused with 401, whatever the person's role.
"""

from django.http import Http404
from ninja import Router

from orgconnectors.api.access import needs_scope
from orgconnectors.api.operator_auth import OperatorTokenAuth
from orgconnectors.api.plan_schemas import (
    OperatorOrganizationOut,
    OperatorPlanIn,
    PlanChangeOut,
)
from orgconnectors.api.schemas import ErrorOut
from orgconnectors.api.scopes import ANY_SCOPE
from orgconnectors.organizations.models import Organization, PlanChangeRequest
from orgconnectors.organizations.operator_tokens import operator_actor
from orgconnectors.organizations.plan_change import organization_change_plan
from orgconnectors.organizations.services import plan_get

router = Router(tags=["operator"], auth=OperatorTokenAuth())

_ERRORS = {401: ErrorOut, 404: ErrorOut}


def _organization(org: str) -> Organization:
    organization = Organization.objects.select_related("plan").filter(slug=org).first()
    if organization is None:
        raise Http404("No such organization")
    return organization


def _request_out(request: PlanChangeRequest) -> dict:
    return {
        "id": request.pk,
        "plan": request.plan.code,
        "connection_limit": request.connection_limit,
        "message": request.message,
        "status": request.status,
        "requested_by": request.requested_by_email,
        "created_at": request.created_at,
    }


@router.get(
    "/orgs/{org}",
    response={200: OperatorOrganizationOut, **_ERRORS},
    operation_id="operator_organization_get",
    summary="An organization's plan, limits, retention and waiting plan request (operators)",
)
@needs_scope(ANY_SCOPE)  # operator tokens only (OperatorTokenAuth); no org token gets here
def operator_organization_get(request, org: str):
    organization = _organization(org)
    grace = organization.audit_retention_grace()
    pending = (
        organization.plan_change_requests.filter(status=PlanChangeRequest.Status.PENDING)
        .select_related("plan")
        .first()
    )
    return {
        "slug": organization.slug,
        "name": organization.name,
        "plan": organization.plan.code,
        "max_enabled_connections": organization.max_enabled_connections,
        "connection_limit_override": organization.connection_limit_override,
        "audit_retention_days": organization.audit_retention,
        "audit_retention_grace": (
            {"days": grace, "until": organization.audit_retention_grace_until} if grace else None
        ),
        "pending_request": _request_out(pending) if pending else None,
    }


@router.put(
    "/orgs/{org}/plan",
    response={200: PlanChangeOut, 400: ErrorOut, **_ERRORS},
    operation_id="operator_plan_set",
    summary="Move an organization to a plan (operators); connections beyond the limit are "
    "suspended",
)
@needs_scope(ANY_SCOPE)
def operator_plan_set(request, org: str, payload: OperatorPlanIn):
    organization = _organization(org)
    result = organization_change_plan(
        organization=organization,
        plan=plan_get(code=payload.plan),
        limit_override=payload.connection_limit,
        actor=operator_actor(request.auth, request),
    )
    organization.refresh_from_db()
    return {
        "plan": result.plan.code,
        "limit": result.new_limit,
        "previous_limit": result.old_limit,
        "suspended": [
            {
                "member": impact.membership.user.email,
                "connectors": [connection.connector.name for connection in impact.suspended],
            }
            for impact in result.affected
        ],
        "audit_retention_days": result.new_retention,
        "older_events_kept_until": organization.audit_retention_grace_until
        if result.retention_grace_until
        else None,
    }
