from ninja import Router

from orgconnectors.api.access import caller_membership, needs_scope
from orgconnectors.api.schemas import ACCESS_ERRORS, OrganizationOut
from orgconnectors.api.scopes import READ
from orgconnectors.connectors.selectors import connection_usage

router = Router(tags=["organizations"])


@router.get(
    "/{org}",
    response={200: OrganizationOut, **ACCESS_ERRORS},
    operation_id="organization_get",
    summary="The organization, your role in it, its limit and your usage",
)
@needs_scope(READ)
def organization_get(request, org: str):
    membership = caller_membership(request, org)
    organization = membership.organization
    in_use, limit = connection_usage(membership=membership)
    return {
        "slug": organization.slug,
        "name": organization.name,
        "plan": organization.plan.code,
        "role": membership.role,
        "limits": {"max_enabled_connections": limit},
        "usage": {"enabled_connections": in_use},
    }
