"""The email domains an organization claims for single sign-on (owners)."""

from ninja import Router, Status

from orgconnectors.api.access import OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.domain_schemas import ClaimedDomainIn, ClaimedDomainOut
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS, ErrorOut
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.identity.domains import (
    challenge_record,
    domain_claim,
    domain_get,
    domain_release,
    domain_verify,
    domains_of,
)
from orgconnectors.identity.models import ClaimedDomain

router = Router(tags=["identity"])


def _out(claimed: ClaimedDomain) -> dict:
    record = challenge_record(claimed)
    return {
        "id": claimed.pk,
        "domain": claimed.domain,
        "verified": claimed.is_verified,
        "verified_at": claimed.verified_at,
        "verified_by": claimed.verified_by,
        "last_checked_at": claimed.last_checked_at,
        "last_check_error": claimed.last_check_error,
        "txt_record": {"name": record.name, "value": record.value},
    }


@router.get(
    "/{org}/domains",
    response={200: list[ClaimedDomainOut], **ACCESS_ERRORS},
    operation_id="domain_list",
    summary="The email domains the organization claims, verified or not (owners)",
)
@needs_scope(READ)
def domain_list(request, org: str):
    membership = caller_membership(request, org, OWNER)
    return [_out(claimed) for claimed in domains_of(organization=membership.organization)]


@router.post(
    "/{org}/domains",
    response={201: ClaimedDomainOut, 409: ErrorOut, **INPUT_ERRORS},
    operation_id="domain_claim",
    summary="Claim an email domain (owners); the answer names the TXT record that proves it",
    description="Publish `txt_record` in the domain's DNS, then verify. Public mail providers "
    "and public suffixes are refused (400); a domain another organization has verified is "
    "refused with 409, without saying which.",
)
@needs_scope(ADMIN)
def domain_claim_view(request, org: str, payload: ClaimedDomainIn):
    membership = caller_membership(request, org, OWNER)
    claimed, _record = domain_claim(
        organization=membership.organization, domain=payload.domain, actor=caller_actor(request)
    )
    return Status(201, _out(claimed))


@router.post(
    "/{org}/domains/{domain_id}/verify",
    response={200: ClaimedDomainOut, 409: ErrorOut, **INPUT_ERRORS},
    operation_id="domain_verify",
    summary="Look the domain's TXT record up now and verify the claim (owners)",
    description="400 with what DNS answered when the record is not there yet (also kept as "
    "`last_check_error`); 409 when another organization verified the domain first.",
)
@needs_scope(ADMIN)
def domain_verify_view(request, org: str, domain_id: int):
    membership = caller_membership(request, org, OWNER)
    claimed = domain_get(organization=membership.organization, domain_id=domain_id)
    return _out(domain_verify(claimed_domain=claimed, actor=caller_actor(request)))


@router.delete(
    "/{org}/domains/{domain_id}",
    response={204: None, **INPUT_ERRORS},
    operation_id="domain_release",
    summary="Release a claimed domain (owners)",
)
@needs_scope(ADMIN)
def domain_release_view(request, org: str, domain_id: int):
    membership = caller_membership(request, org, OWNER)
    claimed = domain_get(organization=membership.organization, domain_id=domain_id)
    domain_release(claimed_domain=claimed, actor=caller_actor(request))
    return Status(204, None)
