"""Tool-call quotas (connectors/quotas.py): owners set them, owners and auditors read them."""

from ninja import Field, Router, Schema, Status

from orgconnectors.api.access import AUDITOR, OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.schemas import ACCESS_ERRORS, INPUT_ERRORS, InputSchema
from orgconnectors.api.scopes import ADMIN, READ
from orgconnectors.connectors.quotas import (
    plan_default,
    quota_get,
    quota_remove,
    quota_set,
    quotas_of,
)
from orgconnectors.connectors.selectors import connector_get

router = Router(tags=["quotas"])


class QuotaOut(Schema):
    id: int
    connector_id: int | None = Field(description="Empty: the whole organization.")
    tool_name: str = Field(description="Empty: every tool of the connector.")
    scope: str
    per_minute: int | None = Field(description="Calls per minute for each member; empty: none.")
    per_day: int | None = Field(description="Calls per day for each member; empty: none.")

    @staticmethod
    def resolve_scope(obj) -> str:
        return obj.scope_label


class PlanDefaultOut(Schema):
    per_minute: int | None
    per_day: int | None


class QuotasOut(Schema):
    plan_default: PlanDefaultOut = Field(
        description="The organization's limit for each member while no organization-wide "
        "quota replaces it."
    )
    quotas: list[QuotaOut]


class QuotaIn(InputSchema):
    connector_id: int | None = Field(None, description="Empty: the whole organization.")
    tool_name: str = Field("", max_length=128, description="Empty: every tool.")
    per_minute: int | None = Field(None, description="Empty: no limit per minute.")
    per_day: int | None = Field(None, description="Empty: no limit per day.")


@router.get(
    "/{org}/quotas",
    response={200: QuotasOut, **ACCESS_ERRORS},
    operation_id="quota_list",
    summary="The organization's tool-call quotas (owners and auditors)",
)
@needs_scope(READ)
def quota_list(request, org: str):
    membership = caller_membership(request, org, OWNER, AUDITOR)
    per_minute, per_day = plan_default(membership.organization)
    return {
        "plan_default": {"per_minute": per_minute, "per_day": per_day},
        "quotas": list(quotas_of(organization=membership.organization)),
    }


@router.put(
    "/{org}/quotas",
    response={200: QuotaOut, **INPUT_ERRORS},
    operation_id="quota_set",
    summary="Set the quota of the organization, a connector or a tool (owners)",
)
@needs_scope(ADMIN)
def quota_put(request, org: str, payload: QuotaIn):
    membership = caller_membership(request, org, OWNER)
    organization = membership.organization
    connector = None
    if payload.connector_id is not None:
        connector = connector_get(organization=organization, connector_id=payload.connector_id)
    return quota_set(
        organization=organization,
        actor=caller_actor(request),
        connector=connector,
        tool_name=payload.tool_name,
        per_minute=payload.per_minute,
        per_day=payload.per_day,
    )


@router.delete(
    "/{org}/quotas/{quota_id}",
    response={204: None, **INPUT_ERRORS},
    operation_id="quota_delete",
    summary="Remove a quota (owners); the organization's plan default applies again",
)
@needs_scope(ADMIN)
def quota_delete(request, org: str, quota_id: int):
    membership = caller_membership(request, org, OWNER)
    quota = quota_get(organization=membership.organization, quota_id=quota_id)
    quota_remove(quota=quota, actor=caller_actor(request))
    return Status(204, None)
