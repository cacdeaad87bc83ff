"""Every body the API reads or writes, so the OpenAPI document describes the API completely."""

from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from orgconnectors.api.health_schemas import ConnectorHealthOut, connector_health_fields
from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.tool_policy import connector_tools
from orgconnectors.organizations.models import Membership

# Built from the models' choices so the schema cannot drift from what the services accept.
TransportName = Literal[tuple(Connector.Transport.values)]
AuthName = Literal[tuple(Connector.Auth.values)]
ToolDefaultName = Literal[tuple(Connector.ToolDefault.values)]
ConnectorStatusName = Literal[tuple(Connector.Status.values)]
ConnectionStateName = Literal[tuple(Connection.State.values)]
RoleName = Literal[tuple(Membership.Role.values)]
AuditOutcomeName = Literal[tuple(AuditEvent.Outcome.values)]


def _texts(value):
    """Every string in `value`, keys of objects included; walked without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


class TextInput(Schema):
    """PostgreSQL cannot store a null character, nor text that is not UTF-8 (JSON can carry a
    lone surrogate, "\\ud800"): refused here, each is a 400 naming the field instead of a server
    error (Django's form fields refuse NUL the same way; forms never decode to a surrogate)."""

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value):
        for text in _texts(value):
            if "\x00" in text:
                raise ValueError("Null characters are not allowed; remove them.")
            if not text.isascii():
                try:
                    text.encode()
                except UnicodeEncodeError:
                    raise ValueError(
                        "This text has a lone surrogate (an unpaired \\ud800-\\udfff escape), "
                        "which is not Unicode text; send it as UTF-8."
                    ) from None
        return value


class InputSchema(TextInput):
    # A misspelt field would otherwise be ignored and the caller would think it was applied.
    model_config = ConfigDict(extra="forbid")


# Errors


class ErrorOut(Schema):
    """The body of every error the API answers (orgconnectors/api/errors.py)."""

    code: str = Field(
        description="What went wrong, for programs: invalid, unauthenticated, forbidden, "
        "not_found, connection_limit_reached, rate_limited, or the domain's own code."
    )
    detail: str = Field(description="What went wrong, for people.")
    errors: dict[str, list[str]] = Field(
        description='Messages by the field that caused them; "__all__" when no single field did.'
    )


class LimitReachedOut(ErrorOut):
    code: Literal["connection_limit_reached"]
    limit: int = Field(description="How many connections one member may have enabled at once.")
    enabled: list[int] = Field(description="Ids of the connectors the caller has enabled.")


# Organizations


class LimitsOut(Schema):
    max_enabled_connections: int


class UsageOut(Schema):
    enabled_connections: int = Field(description="The caller's connections in use.")


class OrganizationOut(Schema):
    slug: str
    name: str
    plan: str = Field(description="The plan's code.")
    role: RoleName = Field(description="The caller's role in this organization.")
    limits: LimitsOut
    usage: UsageOut


# Connectors


class ToolOut(Schema):
    name: str
    enabled: bool


class ConnectorOut(Schema):
    id: int
    name: str
    url: str
    transport: TransportName
    auth: AuthName
    oauth_client_id: str
    has_client_secret: bool = Field(description="The secret itself is never returned.")
    tool_default: ToolDefaultName
    directory_slug: str
    status: ConnectorStatusName
    last_checked_at: datetime | None
    members_connected: int = Field(description="Members with this connector in use.")
    tools: list[ToolOut]
    health: ConnectorHealthOut
    created_at: datetime

    @staticmethod
    def resolve_health(connector: Connector) -> dict[str, Any]:
        return connector_health_fields(connector)

    @staticmethod
    def resolve_members_connected(connector: Connector) -> int:
        # Annotated by connectors_of; a connector fresh from connector_register has nobody yet.
        return getattr(connector, "members_connected", 0)

    @staticmethod
    def resolve_tools(connector: Connector) -> list[dict[str, Any]]:
        return [{"name": t.name, "enabled": t.enabled} for t in connector_tools(connector)]


class ConnectorCreateIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Docs search", "url": "https://docs.example.com/mcp"}]
        }
    )

    name: str = Field("", description="Defaults to the directory entry's name.")
    url: str = Field("", description="https only; defaults to the directory entry's URL.")
    transport: TransportName | None = Field(
        None, description="Defaults to the directory entry's, otherwise auto."
    )
    auth: AuthName | None = Field(
        None, description="Defaults to the directory entry's, otherwise none."
    )
    oauth_client_id: str = ""
    oauth_client_secret: str = Field("", description="Stored encrypted; never returned.")
    tool_default: ToolDefaultName = "allow"
    directory_slug: str = Field("", description="A directory entry to take defaults from.")
    confirm_no_zdr: bool = Field(
        False,
        description="Required (true) when the organization requires zero data retention: "
        "confirms that MCP connector traffic is not covered by it.",
    )


class ConnectorUpdateIn(InputSchema):
    """Only the fields sent are changed."""

    name: str | None = None
    url: str | None = Field(None, description="Cannot change; sending a different URL is refused.")
    transport: TransportName | None = None
    auth: AuthName | None = None
    oauth_client_id: str | None = Field(None, description="An empty value clears the secret too.")
    oauth_client_secret: str | None = Field(
        None, description="An empty value keeps the stored one."
    )
    tool_default: ToolDefaultName | None = None


class ToolPolicyIn(InputSchema):
    default: ToolDefaultName
    overrides: dict[str, bool] = Field(
        default_factory=dict,
        description="The complete set of per-tool decisions: true allows, false blocks.",
    )


# Connections


class ConnectionStatusOut(Schema):
    status: ConnectionStateName


class ConnectionEnableOut(Schema):
    status: ConnectionStateName
    authorize_url: str | None = Field(
        None,
        description="OAuth connectors: open it in the member's browser to authorize (valid 10 "
        "minutes, once). Started with an API token, it completes for the token's user signed in "
        "to the dashboard in any browser; started with the session, only in that session.",
    )
    reason: str | None = Field(
        None, description="When authorization is needed but cannot start: why, and what to do."
    )


class StepUpIn(InputSchema):
    scope: str = Field(
        description="The scope the server demanded (its 403 insufficient_scope `scope`)."
    )


class StepUpOut(Schema):
    status: ConnectionStateName
    authorize_url: str = Field(
        description="Open it in the member's browser to authorize the wider scopes."
    )


class MyConnectionOut(Schema):
    connector_id: int
    connector_name: str
    status: ConnectionStateName
    enabled_at: datetime | None
    reason: str = Field(description="Why the connection is in this state, when it needs you.")


# Members


class MemberOut(Schema):
    id: int
    email: str
    role: RoleName
    connections_in_use: int = Field(description="Connections this member has in use.")
    joined_at: datetime

    @staticmethod
    def resolve_email(membership: Membership) -> str:
        return membership.user.email

    @staticmethod
    def resolve_joined_at(membership: Membership) -> datetime:
        return membership.created_at


class InvitationIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "new.member@example.com", "role": "member"}]}
    )

    email: str
    role: RoleName = "member"

    @field_validator("email")
    @classmethod
    def _email_is_an_address(cls, value: str) -> str:
        value = value.strip()
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("Enter a valid email address, like name@example.com.") from None
        return value


class InvitationOut(Schema):
    id: int
    email: str
    role: RoleName
    expires_at: datetime


class MemberRoleIn(InputSchema):
    role: RoleName


# Audit


class AuditFilterQuery(TextInput):
    actor: str = Field("", description="Part of the actor's email or label.")
    action: str = Field("", description="An exact action, like connector.registered.")
    target: str = Field("", description="Part of the target's label, or its exact id.")
    connector: int | None = Field(None, description="Events concerning this connector (id).")
    member: int | None = Field(
        None, description="Events by or about this member (their user id, as in member_user_id)."
    )
    outcome: AuditOutcomeName | None = Field(None, description="success, failure or refused.")
    date_from: date | None = Field(None, description="YYYY-MM-DD, inclusive.")
    date_to: date | None = Field(None, description="YYYY-MM-DD, inclusive.")


class AuditQuery(AuditFilterQuery):
    cursor: str | None = Field(None, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    actor: str = Field(description="Who acted, as they were known then.")
    action: str
    target_type: str
    target_id: str
    target: str = Field(description="What was acted on, as it was known then.")
    outcome: AuditOutcomeName
    connector_id: int | None = Field(description="The connector the event concerns.")
    member_user_id: int | None = Field(description="The member the event concerns (user id).")
    ip: str | None
    user_agent: str
    changes: dict[str, Any] = Field(description="{field: {before, after}}; secrets redacted.")
    prev_hash: str | None = Field(
        description="The hash of the organization's previous event; null for the moment "
        "between the event's commit and its sealing into the chain."
    )
    hash: str | None = Field(
        description="sha256 of this event's content and prev_hash (see verify_audit_chain); "
        "null until the event is sealed, right after its commit."
    )

    @staticmethod
    def resolve_connector_id(event) -> int | None:
        return event.connector_ref

    @staticmethod
    def resolve_member_user_id(event) -> int | None:
        return event.member_ref

    @staticmethod
    def resolve_actor(event) -> str:
        return event.actor_label

    @staticmethod
    def resolve_target(event) -> str:
        return event.target_label


class AuditPageOut(Schema):
    events: list[AuditEventOut]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )


# What operations may answer besides success: every one checks who calls (401, 403, 404); those
# that read a body, a query or an id from the path may also find it invalid (400).
ACCESS_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
INPUT_ERRORS = {400: ErrorOut, **ACCESS_ERRORS}
