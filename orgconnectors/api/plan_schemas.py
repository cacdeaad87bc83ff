"""Bodies of the plan endpoints: owners' requests and the operator API."""

from datetime import datetime

from ninja import Field, Schema

from orgconnectors.api.schemas import InputSchema

_LIMIT = Field(
    None,
    ge=1,
    le=1000,
    description="Enterprise only: the organization's own connection limit per member.",
)


class PlanRequestIn(InputSchema):
    plan: str = Field(max_length=32, description="The code of the plan asked for.")
    connection_limit: int | None = _LIMIT
    message: str = Field("", max_length=2000, description="A word for the operator.")


class PlanRequestOut(Schema):
    id: int
    plan: str
    connection_limit: int | None
    message: str
    status: str
    requested_by: str
    created_at: datetime


class OperatorPlanIn(InputSchema):
    plan: str = Field(max_length=32, description="The code of the plan to move to.")
    connection_limit: int | None = _LIMIT


class SuspendedOut(Schema):
    member: str = Field(description="The member's email.")
    connectors: list[str] = Field(description="Connectors whose connection is suspended.")


class PlanChangeOut(Schema):
    plan: str
    limit: int = Field(description="Connections per member after the change.")
    previous_limit: int
    suspended: list[SuspendedOut] = Field(description="Connections beyond the new limit.")
    audit_retention_days: int
    older_events_kept_until: datetime | None = Field(
        description="When the change shortens retention: until when older events are kept."
    )


class RetentionGraceOut(Schema):
    days: int = Field(description="The former, longer retention that still holds.")
    until: datetime


class OperatorOrganizationOut(Schema):
    slug: str
    name: str
    plan: str
    max_enabled_connections: int
    connection_limit_override: int | None
    audit_retention_days: int
    audit_retention_grace: RetentionGraceOut | None
    pending_request: PlanRequestOut | None
