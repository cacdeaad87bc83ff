"""Bodies of the Messages API configuration, the request migration and the API token endpoints."""

from datetime import UTC, datetime
from typing import Any, Literal, NotRequired

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator
from typing_extensions import TypedDict

from orgconnectors.api.schemas import ErrorOut, InputSchema
from orgconnectors.api.scopes import SCOPES
from orgconnectors.messages_api.builder import (
    ANTHROPIC_VERSION,
    BETA_2025_11_20,
    BETA_2026_09_15,
)

# Rate limit


class RateLimitedOut(ErrorOut):
    code: Literal["rate_limited"]
    retry_after: int = Field(description="Seconds to wait; also in the Retry-After header.")


# The configuration (the Messages API's own field names)


class ConfigHeadersOut(Schema):
    anthropic_beta: Literal[BETA_2026_09_15, BETA_2025_11_20] = Field(
        alias="anthropic-beta", description="The beta the answer is written for (`?beta=`)."
    )
    anthropic_version: Literal[ANTHROPIC_VERSION] = Field(alias="anthropic-version")


class McpServerOut(Schema):
    type: Literal["url"]
    url: str = Field(description="The server's https URL.")
    name: str = Field(
        description="Unique in the answer, and stable: the slug of the connector's name (with "
        "its id appended when two connectors share a slug)."
    )
    authorization_token: str = Field(
        None,
        description="OAuth connectors only: the member's access token, valid for at least 60 "
        "seconds more. Absent for servers without authentication.",
    )


class ToolConfigOut(Schema):
    enabled: bool


class McpToolOut(TypedDict):
    """A pinned tool: its name on its server, its description (absent when it has none) and its
    input schema, exactly as approved. A TypedDict, not a Schema: an answer pins hundreds of
    these, and ninja's per-object validation of a Schema would cost more than the rest of the
    answer (bench/messages_api_config.py)."""

    name: str
    description: NotRequired[str]
    input_schema: dict[str, Any]


class McpToolsetOut(Schema):
    type: Literal["mcp_toolset"]
    mcp_server_name: str = Field(description="The name of one of mcp_servers.")
    tools: list[McpToolOut] = Field(
        None,
        description=f"{BETA_2026_09_15} only, for connectors with an approved tool listing: the "
        "approved definitions of the tools you may use, pinned (the Messages API does not ask "
        "the server for its list). Tools held for review are absent.",
    )
    default_config: ToolConfigOut = Field(
        None,
        description="Present when tools are blocked by default: "
        '{"enabled": false}, with the allowed tools in configs (an allowlist). Under '
        f"{BETA_2025_11_20} every connector with an approved listing is an allowlist.",
    )
    configs: dict[str, ToolConfigOut] = Field(
        None,
        description="Per-tool decisions of the organization's policy: the allowed tools of an "
        "allowlist, or the blocked tools of a denylist. Absent when there are none.",
    )


WarningCode = Literal[
    "suspended",
    "needs_authorization",
    "not_connected",
    "not_https",
    "unhealthy",
    "token_unavailable",
    "no_tools_allowed",
    "zero_data_retention",
    "tools_held",
    "tools_pinned",
    "tools_not_listed",
    "tools_unpinned",
]


class ConfigWarningOut(Schema):
    code: WarningCode
    connector_id: int | None = Field(description="The connector concerned; null for notices.")
    connector_name: str | None
    message: str = Field(description="A sentence for the member: what, why and what to do.")
    tools: list[str] = Field(
        None,
        description="Warnings about tools (`tools_held`, `tools_pinned`): the tools concerned.",
    )


class MessagesApiConfigOut(Schema):
    headers: ConfigHeadersOut = Field(description="Send these with the Messages API request.")
    mcp_servers: list[McpServerOut]
    tools: list[McpToolsetOut] = Field(description="Exactly one mcp_toolset per server.")
    expires_at: datetime | None = Field(
        description="When the first of the tokens expires; null when none expires. Ask again "
        "before then."
    )
    warnings: list[ConfigWarningOut] = Field(
        description="Connectors left out and why (or notices), for the app to tell the member."
    )


# Migration from mcp-client-2025-04-04


class MigrationHeadersOut(Schema):
    anthropic_beta: Literal[BETA_2025_11_20] = Field(alias="anthropic-beta")


class MigratedOut(Schema):
    request: dict[str, Any] = Field(description=f"The request body for {BETA_2025_11_20}.")
    changes: list[str] = Field(description="Every change made, in words, and the header to change.")
    headers: MigrationHeadersOut = Field(description="The header to send with it instead.")


# API tokens


TokenStatus = Literal["active", "expired", "revoked"]
TokenScope = Literal[SCOPES]


class ApiTokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    status: TokenStatus
    created_at: datetime
    scopes: list[TokenScope] = Field(
        description="What it may do: `read` (what your role may read), `connections` (your own "
        "connections and the Messages API configuration), `admin` (owners' changes)."
    )
    expires_at: datetime
    last_used_at: datetime | None = Field(
        description="When it was last used, to the minute; null: never."
    )
    revoked_at: datetime | None

    @staticmethod
    def resolve_status(api_token) -> str:
        if api_token.revoked_at:
            return "revoked"
        if api_token.expires_at <= datetime.now(UTC):
            return "expired"
        return "active"


class ApiTokenCreatedOut(ApiTokenOut):
    token: str = Field(description="The token itself; shown this once, stored only as a hash.")


class ApiTokenCreateIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Deploy bot", "scopes": ["read"], "expires_in_days": 90}]
        }
    )

    name: str = Field(max_length=100, description="The app or script that will use it.")
    scopes: list[TokenScope] | None = Field(
        None,
        min_length=1,
        description="Default: every scope your role allows (and, when you call with a token, "
        "that token has). A token cannot create one with more scope than its own (403).",
    )
    expires_at: datetime | None = Field(
        None,
        description="When it stops working (a time without zone is UTC), within 365 days; "
        "default: in 90 days. A token cannot create one that outlives it (403).",
    )
    expires_in_days: int | None = Field(
        None, ge=1, le=365, description="Instead of expires_at: days from now."
    )

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
