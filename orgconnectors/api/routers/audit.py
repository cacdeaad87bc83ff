from ninja import Query, Router, Status

from orgconnectors.api.access import (
    AUDITOR,
    OWNER,
    caller_actor,
    caller_membership,
    needs_scope,
)
from orgconnectors.api.digest_schemas import (
    AuditDigestOut,
    AuditDigestQuery,
    AuditDigestsOut,
    AuditPublicKeyOut,
)
from orgconnectors.api.schemas import INPUT_ERRORS, AuditPageOut, AuditQuery, ErrorOut
from orgconnectors.api.scopes import ANY_SCOPE, READ
from orgconnectors.reports.digests import (
    audit_digest_publish,
    audit_digests_download,
    digest_as_json,
    public_key_as_json,
)
from orgconnectors.reports.selectors import AuditFilters, audit_events_page

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


# Signed digests (reports/digests.py). 503 when the operator has not set the signing key.
DIGEST_ERRORS = {**INPUT_ERRORS, 503: ErrorOut}


@router.get(
    "/{org}/audit-digests",
    response={200: AuditDigestsOut, **DIGEST_ERRORS},
    operation_id="audit_digest_list",
    summary="The signed digests of the audit trail, newest first, with the public key "
    "(owners, auditors)",
)
@needs_scope(READ)
def audit_digest_list(request, org: str, query: Query[AuditDigestQuery]):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    return audit_digests_download(organization=membership.organization, limit=query.limit)


@router.post(
    "/{org}/audit-digests",
    response={201: AuditDigestOut, **DIGEST_ERRORS},
    operation_id="audit_digest_publish",
    summary="Sign a digest of the audit trail now (owners, auditors)",
)
@needs_scope(READ)
def audit_digest_publish_now(request, org: str):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    digest = audit_digest_publish(organization=membership.organization, actor=caller_actor(request))
    return Status(201, digest_as_json(digest))


public_router = Router(tags=["audit"])


@public_router.get(
    "/audit-public-key",
    auth=None,
    response={200: AuditPublicKeyOut, 503: ErrorOut},
    operation_id="audit_public_key",
    summary="The public key that verifies the audit digests (anyone)",
)
@needs_scope(ANY_SCOPE)
def audit_public_key(request):
    return public_key_as_json()
