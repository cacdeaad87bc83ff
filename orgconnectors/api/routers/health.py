from ninja import Router, Status

from orgconnectors.api.access import AUDITOR, OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.health_schemas import HealthRunOut, HealthRunStartedOut
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.connectors.selectors import connector_get
from orgconnectors.health.selectors import health_run_progress
from orgconnectors.health.services import health_check_all, health_check_now

router = Router(tags=["health"])


@router.post(
    "/{org}/connectors/{connector_id}/check",
    response={202: HealthRunStartedOut, **INPUT_ERRORS},
    operation_id="connector_check",
    summary="Check a connector now (owners)",
    description="The check runs on a worker; follow the run for its result.",
)
@needs_scope(ADMIN)
def connector_check(request, org: str, connector_id: int):
    membership = caller_membership(request, org, OWNER)
    connector = connector_get(organization=membership.organization, connector_id=connector_id)
    run_id = health_check_now(connector=connector, actor=caller_actor(request))
    return Status(202, {"run_id": run_id})


@router.post(
    "/{org}/health-runs",
    response={202: HealthRunStartedOut, **ACCESS_ERRORS},
    operation_id="health_run_start",
    summary="Check every connector of the organization now (owners)",
    description="The checks run on workers; follow the run to see them arrive.",
)
@needs_scope(ADMIN)
def health_run_start(request, org: str):
    membership = caller_membership(request, org, OWNER)
    run_id = health_check_all(organization=membership.organization, actor=caller_actor(request))
    return Status(202, {"run_id": run_id})


@router.get(
    "/{org}/health-runs/{run_id}",
    response={200: HealthRunOut, **INPUT_ERRORS},
    operation_id="health_run_get",
    summary="How far a check run has come, and what it found so far (owners, auditors)",
)
@needs_scope(READ)
def health_run_read(request, org: str, run_id: int):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    return health_run_progress(organization=membership.organization, run_id=run_id)
