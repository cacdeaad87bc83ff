from ninja import NinjaAPI

from orgconnectors.api.auth import api_auth
from orgconnectors.api.errors import register_error_handlers
from orgconnectors.api.routers import (
    api_tokens,
    audit,
    connections,
    connectors,
    domains,
    groups,
    health,
    identity,
    members,
    messages_api,
    oauth_issuer,
    operator,
    organizations,
    plan_requests,
    quotas,
    tools,
    usage,
)

api = NinjaAPI(
    title="orgconnectors API",
    version="1",
    description=(
        "Run an organization's Remote MCP connectors. Authenticate with a personal API token "
        "(`Authorization: Bearer oc_...`, created on the organization's API tokens page and valid "
        "for that organization only) or the dashboard's session (unsafe methods then need the "
        "X-CSRFToken header). A token has scopes: `read` (what your role may read), "
        "`connections` (your own connections and the Messages API configuration) and `admin` "
        "(owners' changes); each operation names the one it needs as `x-token-scope`, and a "
        "token without it gets a 403 naming it. Tokens expire (90 days unless chosen, at most "
        "365)."
    ),
    docs_url="/docs",
    auth=api_auth,
)
register_error_handlers(api)

for router in (organizations, connectors, connections, health, members, audit, usage):
    api.add_router("/orgs", router.router)
api.add_router("/orgs", plan_requests.router)
api.add_router("/orgs", quotas.router)
api.add_router("/orgs", messages_api.router)
api.add_router("/orgs", api_tokens.router)
api.add_router("/orgs", tools.router)
api.add_router("/orgs", identity.router)
api.add_router("/orgs", domains.router)
api.add_router("/orgs", groups.router)
api.add_router("", audit.public_router)
api.add_router("/orgs", oauth_issuer.router)
api.add_router("/tools", messages_api.tools_router)
# The deployment's own API (plans and limits); organization tokens and sessions are refused.
api.add_router("/operator", operator.router)
