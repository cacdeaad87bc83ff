from datetime import datetime

from ninja import Field, Schema
from pydantic import ConfigDict

from orgconnectors.api.schemas import InputSchema


class ScimTokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: datetime
    last_used_at: datetime | None = Field(
        description="When the identity provider last used it, to the minute; null: never."
    )
    revoked_at: datetime | None


class ScimTokenCreatedOut(ScimTokenOut):
    token: str = Field(description="The token itself; shown this once, stored only as a hash.")
    scim_base_url: str = Field(description="The SCIM 2.0 base URL to give the identity provider.")


class ScimTokenCreateIn(InputSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Okta"}]})

    name: str = Field(max_length=100, description="The identity provider that will use it.")


class ConnectorAccessIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"who_may_connect": "groups", "groups": ["<group id>"]}]}
    )

    who_may_connect: str = Field(
        description="`everyone` (the default) or `groups`: only the people of `groups`."
    )
    groups: list[str] = Field(
        default_factory=list,
        description="The ids of the organization's groups, SCIM's or the dashboard's.",
    )


class AccessGroupOut(Schema):
    id: str
    display_name: str


class ConnectorAccessOut(Schema):
    who_may_connect: str
    groups: list[AccessGroupOut]
