from typing import Annotated, Any

from django.http import HttpResponse
from ninja import Body, Query, Router, Status
from ninja import Field as NinjaField

from orgconnectors.api.access import MEMBER, OWNER, caller_actor, caller_membership, needs_scope
from orgconnectors.api.errors import error_body
from orgconnectors.api.messages_api_schemas import (
    MessagesApiConfigOut,
    MigratedOut,
    RateLimitedOut,
)
from orgconnectors.api.models import ApiToken
from orgconnectors.api.schemas import INPUT_ERRORS, ErrorOut, TextInput
from orgconnectors.api.scopes import ANY_SCOPE, CONNECTIONS
from orgconnectors.messages_api.beta_upgrade import (
    MAX_REQUEST_CHARS,
    TOO_LARGE,
    MigrationInvalid,
    migrate_request,
)
from orgconnectors.messages_api.builder import (
    BETA_2025_11_20,
    BETA_2026_09_15,
    configuration_json,
)
from orgconnectors.messages_api.ratelimit import config_request_allowed
from orgconnectors.messages_api.services import messages_api_config

router = Router(tags=["messages api"])
tools_router = Router(tags=["tools"])


class ConfigQuery(TextInput):
    connectors: str = NinjaField(
        "",
        description="Only these connectors: names from mcp_servers or connector ids, separated "
        "by commas. An unknown one is a 400 naming it.",
    )
    beta: str = NinjaField(
        "",
        description=f"The beta your app sends: `{BETA_2026_09_15}` (the default: each toolset "
        f"pins the approved tool definitions) or `{BETA_2025_11_20}` (an allowlist of the "
        "approved tools; descriptions come from the live servers). Anything else is a 400.",
    )


def _rate_ident(request) -> str:
    # Per token (its hash, never the token), or per person signed in to the dashboard.
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.token_hash[:32]}"
    return f"user:{request.auth.pk}"


@router.get(
    "/{org}/messages-api-config",
    response={200: MessagesApiConfigOut, 429: RateLimitedOut, **INPUT_ERRORS},
    operation_id="messages_api_config",
    summary="Your connectors, ready to put in a Messages API request (owners, members)",
    description="The `mcp_servers` and `tools` of a Messages API request for your connections "
    "that are enabled, authorized and healthy, written for the beta of `?beta=` (`headers` name "
    f"it): under `{BETA_2026_09_15}` (the default) each toolset carries `tools`, the approved "
    f"definitions of the tools you may use, pinned; under `{BETA_2025_11_20}` an allowlist of "
    "the approved, allowed tools. Tools held for an owner's review are left out, and "
    "`warnings` say which and why. Connectors without an approved listing yet keep the "
    "organization's tool policy as allowlists or denylists. OAuth tokens are valid "
    "for at least 60 seconds more (refreshed first when needed). Connectors left out are in "
    "`warnings`, with why. Rate limited per token (or per signed-in person): a 429 says when "
    "to try again.",
    by_alias=True,
    exclude_unset=True,
)
@needs_scope(CONNECTIONS)
def messages_api_config_get(request, org: str, response: HttpResponse, query: Query[ConfigQuery]):
    membership = caller_membership(request, org, OWNER, MEMBER)
    verdict = config_request_allowed(ident=_rate_ident(request))
    if not verdict.allowed:
        response["Retry-After"] = str(verdict.retry_after)
        detail = (
            f"Too many requests for the configuration: at most {verdict.limit} per period. "
            f"Try again in {verdict.retry_after} s."
        )
        body = error_body(code="rate_limited", detail=detail, retry_after=verdict.retry_after)
        return Status(429, body)
    token = request.auth if isinstance(request.auth, ApiToken) else None
    config = messages_api_config(
        membership=membership,
        actor=caller_actor(request),
        api_token=token,
        connectors=query.connectors.split(",") if query.connectors else None,
        beta=query.beta,
    )
    # Written directly, not through the response schema: the pinned listings are most of the
    # answer and their JSON is kept between answers (the tests check every answer's shape).
    return HttpResponse(configuration_json(config), content_type="application/json")


OLD_REQUEST_EXAMPLE = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1000,
    "messages": [{"role": "user", "content": "What changed in the wiki today?"}],
    "mcp_servers": [
        {
            "type": "url",
            "url": "https://wiki.example.com/mcp",
            "name": "wiki",
            "authorization_token": "<token>",
            "tool_configuration": {"enabled": True, "allowed_tools": ["search", "recent_changes"]},
        }
    ],
}


@tools_router.post(
    "/migrate-mcp-request",
    response={200: MigratedOut, 400: ErrorOut, 401: ErrorOut},
    operation_id="mcp_request_migrate",
    summary="Rewrite a request for the deprecated MCP connector beta (any signed-in caller)",
    description="Send the JSON body of a Messages API request written for "
    "`mcp-client-2025-04-04` (servers with `tool_configuration`). The answer is the same request "
    "for `mcp-client-2025-11-20` (one `mcp_toolset` per server, allowlists for `allowed_tools`), "
    "with every change listed. Other fields are kept as they are. Invalid input is a 400 whose "
    "`errors` are keyed by JSON path, e.g. `mcp_servers[1].tool_configuration.allowed_tools[0]`.",
    by_alias=True,
)
@needs_scope(ANY_SCOPE)
def mcp_request_migrate(
    request, body: Annotated[dict[str, Any], Body(example=OLD_REQUEST_EXAMPLE)]
):
    if len(request.body) > MAX_REQUEST_CHARS:
        return Status(400, error_body(code="invalid", detail=TOO_LARGE))
    try:
        migrated = migrate_request(body)
    except MigrationInvalid as invalid:
        errors = {path or "__all__": messages for path, messages in invalid.by_path().items()}
        return Status(400, error_body(code="invalid", errors=errors))
    return {"request": migrated.request, "changes": migrated.changes, "headers": migrated.headers}
