"""What an API token may do: `read`, `connections`, `admin` and `mcp`, within what its role
allows."""

from collections.abc import Iterable

from orgconnectors.organizations.models import Membership

Role = Membership.Role

READ = "read"
CONNECTIONS = "connections"
ADMIN = "admin"
# Calling tools through the gateway (/mcp/{org}/{connector}) with the member's own connections.
MCP = "mcp"
# In this order everywhere they are shown.
SCOPES = (READ, CONNECTIONS, ADMIN, MCP)
# Declared by endpoints that any token may call, whatever its scopes (creating a token no wider
# than the caller's own, converting a request): they read and change nothing of the organization.
ANY_SCOPE = "any"

DESCRIPTIONS = {
    READ: "read what your role may read",
    CONNECTIONS: "your own connections and the Messages API configuration",
    ADMIN: "owners' changes: connectors, members, checks",
    MCP: "call tools through the gateway with your own connections",
}

ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    Role.OWNER: (READ, CONNECTIONS, ADMIN, MCP),
    Role.MEMBER: (READ, CONNECTIONS, MCP),
    Role.AUDITOR: (READ,),
}


def scopes_for_role(role: str) -> tuple[str, ...]:
    return ROLE_SCOPES.get(role, ())


def ordered(scopes: Iterable[str]) -> list[str]:
    chosen = set(scopes)
    return [scope for scope in SCOPES if scope in chosen]


def listed(scopes: Iterable[str]) -> str:
    return ", ".join(f"`{scope}`" for scope in ordered(scopes)) or "none"


def roles_allowing(scope: str) -> tuple[str, ...]:
    return tuple(role for role, scopes in ROLE_SCOPES.items() if scope in scopes)
