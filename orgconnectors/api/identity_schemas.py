from datetime import datetime

from ninja import Field, Schema
from pydantic import ConfigDict

from orgconnectors.api.schemas import InputSchema
from orgconnectors.identity.saml_metadata import MAX_METADATA_BYTES


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


class SingleSignOnIn(InputSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "protocol": "oidc",
                    "issuer": "https://login.example.com",
                    "client_id": "orgconnectors",
                    "client_secret": "<secret>",
                    "default_role": "member",
                },
                {"protocol": "saml", "metadata_url": "https://idp.example.com/metadata"},
                {
                    "protocol": "saml",
                    "metadata_url": "https://federation.example.org/metadata.xml",
                    "saml_idp_entity_id": "https://idp.example.com/saml",
                },
            ]
        }
    )

    protocol: str = Field(description="`oidc` (OpenID Connect) or `saml` (SAML 2.0).")
    issuer: str | None = Field(
        default=None,
        max_length=500,
        description="OpenID Connect: the issuer (its discovery document is read and checked).",
    )
    client_id: str | None = Field(default=None, max_length=255)
    client_secret: str | None = Field(
        default=None,
        max_length=2000,
        description="OpenID Connect: stored encrypted, never shown again; omit it to keep the "
        "current one.",
    )
    metadata_url: str | None = Field(
        default=None, max_length=500, description="SAML: where the IdP publishes its metadata."
    )
    metadata_xml: str | None = Field(
        default=None,
        max_length=MAX_METADATA_BYTES,
        description="SAML: the IdP's metadata itself.",
    )
    saml_idp_entity_id: str | None = Field(
        default=None,
        max_length=1024,
        description="SAML: the identity provider's entity id, to choose one when the metadata "
        "lists several (a federation's); omitted, the metadata must list one. The daily refresh "
        "keeps following this provider.",
    )
    default_role: str | None = Field(
        default=None,
        description="The role of people who join at their first sign-in: `member` (default) or "
        "`auditor` (never owner).",
    )


class SingleSignOnOut(Schema):
    configured: bool
    protocol: str | None = None
    issuer: str = ""
    client_id: str = ""
    has_client_secret: bool = Field(
        default=False, description="Whether a client secret is stored (it is never shown)."
    )
    metadata_url: str = ""
    metadata_fetched_at: datetime | None = None
    saml_idp_entity_id: str = Field(
        default="",
        description="SAML: the identity provider's entity id (chosen, or the only one its "
        "metadata lists).",
    )
    default_role: str = "member"
    require_sso: bool = False
    oidc_redirect_uri: str = Field(
        description="OpenID Connect: the redirect URI to register at the identity provider."
    )
    saml_acs_url: str = Field(description="SAML: the assertion consumer service URL.")
    saml_entity_id: str = Field(description="SAML: the service provider's entity id.")
    saml_metadata_url: str = Field(description="SAML: the service provider's metadata.")
