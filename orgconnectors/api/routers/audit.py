from ninja import Query, Router

from orgconnectors.api.access import AUDITOR, OWNER, caller_membership, needs_scope
from orgconnectors.api.schemas import INPUT_ERRORS, AuditPageOut, AuditQuery
from orgconnectors.api.scopes import READ
from orgconnectors.audit.selectors import AuditFilters, audit_events_page

router = Router(tags=["audit"])


@router.get(
    "/{org}/audit-events",
    response={200: AuditPageOut, **INPUT_ERRORS},
    operation_id="audit_event_list",
    summary="The audit trail, newest first (owners, auditors)",
)
@needs_scope(READ)
def audit_event_list(request, org: str, query: Query[AuditQuery]):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    return audit_events_page(
        organization=membership.organization,
        filters=AuditFilters(
            actor=query.actor,
            action=query.action,
            target=query.target,
            connector=query.connector,
            member=query.member,
            outcome=query.outcome or "",
            date_from=query.date_from,
            date_to=query.date_to,
        ),
        cursor=query.cursor,
        limit=query.limit,
    )
