"""Finding a connector's authorization server, the way the MCP authorization spec orders it.

1. An unauthenticated MCP request; its 401 `WWW-Authenticate` may name `resource_metadata`
   and `scope`.
2. Protected resource metadata (RFC 9728): that URL, else `/.well-known/oauth-protected-resource/
   <path>`, else `/.well-known/oauth-protected-resource`. It names the authorization server.
3. Authorization server metadata (RFC 8414 / OpenID): `/.well-known/oauth-authorization-server
   /<path>`, `/.well-known/openid-configuration/<path>`, `/<path>/.well-known/openid-configuration`
   (without a path, the first two at the root). A server that publishes no protected resource
   metadata (2025-03-26) is its own authorization server, at its origin.

Every URL after the connector's own comes from the remote server, so every request goes through
the egress guard and redirects are followed only within their origin.
"""

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    extract_field_from_www_auth,
    issuers_match,
)
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from mcp.shared.auth_utils import check_resource_allowed
from pydantic import ValidationError

from orgconnectors.connectors.urls_canonical import canonical_url
from orgconnectors.egress import (
    EgressError,
    EgressRefused,
    build_client,
    check_url,
    follow_redirects_safely,
)
from orgconnectors.egress.guard import current_policy
from orgconnectors.oauth.errors import DiscoveryFailed

PROTOCOL_VERSION = "2025-11-25"
_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "orgconnectors", "version": "0.1"},
    },
}


@dataclass(frozen=True)
class AuthorizationServer:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    registration_endpoint: str = ""
    revocation_endpoint: str = ""
    scopes_supported: list[str] = field(default_factory=list)
    token_endpoint_auth_methods_supported: list[str] = field(default_factory=list)
    client_id_metadata_document_supported: bool = False
    # RFC 9207: the server names itself (`iss`) in every authorization response.
    iss_parameter_supported: bool = False


@dataclass(frozen=True)
class Discovery:
    resource: str  # the connector's canonical URL: the RFC 8707 `resource` of every request
    server: AuthorizationServer
    scope: str  # what to ask for: the 401's scope, else the scopes the server lists
    resource_scopes: list[str] = field(default_factory=list)


def check_browser_url(url: str, *, what: str) -> str:
    """A URL the member's browser is sent to: http(s) only, and http only in development."""
    parts = urlsplit(url)
    allowed = ("https", "http") if current_policy().allow_loopback else ("https",)
    if parts.scheme not in allowed or not parts.netloc:
        raise DiscoveryFailed(
            f"The {what} {url!r} is not an https:// URL, so orgconnectors will not send members "
            "there. Ask the server's operator to fix its authorization server metadata."
        )
    return url


def _checked(url: str, *, what: str) -> str:
    try:
        check_url(url)
    except EgressRefused as refused:
        raise DiscoveryFailed(f"The server's {what} cannot be used: {refused}.") from None
    return url


def _challenge(http: httpx.Client, server_url: str) -> tuple[str | None, str | None]:
    """(resource_metadata URL, scope) from the server's answer to an unauthenticated request:
    an MCP initialize, else (a legacy HTTP+SSE endpoint takes only GET) the event stream."""
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    found = _challenge_of(
        http,
        http.build_request("POST", server_url, content=json.dumps(_INITIALIZE), headers=headers),
    )
    if found is None:
        found = _challenge_of(
            http, http.build_request("GET", server_url, headers={"Accept": "text/event-stream"})
        )
    return found or (None, None)


def _challenge_of(
    http: httpx.Client, request: httpx.Request
) -> tuple[str | None, str | None] | None:
    server_url = str(request.url)
    try:
        response = http.send(request, stream=True)  # the body is never needed, only the header
    except EgressRefused as refused:
        raise DiscoveryFailed(f"The server cannot be reached: {refused}.") from None
    except (httpx.HTTPError, EgressError) as error:
        raise DiscoveryFailed(
            f"The server at {server_url} did not answer ({_why(error)}); try again "
            "later, or ask an owner to check the connector's URL."
        ) from None
    try:
        if response.status_code not in (401, 403):
            return None
        return (
            extract_field_from_www_auth(response, "resource_metadata"),
            extract_field_from_www_auth(response, "scope"),
        )
    finally:
        response.close()


def _get_json(http: httpx.Client, url: str, *, what: str) -> tuple[int, dict | None]:
    """(status, the JSON object or None) of GET url; raises DiscoveryFailed when unreachable."""
    _checked(url, what=what)
    request = http.build_request(
        "GET", url, headers={"Accept": "application/json", "MCP-Protocol-Version": PROTOCOL_VERSION}
    )
    try:
        response = follow_redirects_safely(http, request)
    except EgressRefused as refused:
        raise DiscoveryFailed(f"The server's {what} cannot be used: {refused}.") from None
    except (httpx.HTTPError, EgressError) as error:
        raise DiscoveryFailed(
            f"The server's {what} at {url} could not be read ({_why(error)}); try again later."
        ) from None
    if response.status_code != 200:
        return response.status_code, None
    try:
        data = response.json()
    except ValueError:
        return 200, None
    return 200, data if isinstance(data, dict) else None


def _resource_metadata(
    http: httpx.Client, server_url: str, header_url: str | None
) -> ProtectedResourceMetadata | None:
    candidates = build_protected_resource_metadata_discovery_urls(header_url, server_url)
    for url in candidates:
        _status, data = _get_json(http, url, what="protected resource metadata")
        if data is None:
            continue
        try:
            metadata = ProtectedResourceMetadata.model_validate(data)
        except ValidationError:
            continue
        if not check_resource_allowed(
            requested_resource=server_url, configured_resource=str(metadata.resource)
        ):
            raise DiscoveryFailed(
                f"The server's protected resource metadata is for {metadata.resource}, not for "
                f"{server_url}; orgconnectors will not use another server's authorization. Ask "
                "the server's operator to fix its metadata, or an owner to check the URL."
            )
        return metadata
    return None


def _server_metadata(http: httpx.Client, issuer: str | None, server_url: str) -> OAuthMetadata:
    expected = issuer or _origin(server_url)
    for url in build_oauth_authorization_server_metadata_discovery_urls(issuer, server_url):
        status, data = _get_json(http, url, what="authorization server metadata")
        if status >= 500:
            raise DiscoveryFailed(
                f"The authorization server {expected} answered {status} for its metadata; try "
                "again later."
            )
        if data is None:
            continue
        try:
            metadata = OAuthMetadata.model_validate(data)
        except ValidationError:
            continue
        if not issuers_match(str(metadata.issuer), expected):
            raise DiscoveryFailed(
                f"The authorization server metadata at {url} says its issuer is "
                f"{metadata.issuer}, not {expected}; orgconnectors refuses mixed-up servers."
            )
        return metadata
    raise DiscoveryFailed(
        f"No authorization server metadata was found for {expected} (RFC 8414 or OpenID "
        "discovery). Ask the server's operator whether it supports OAuth for MCP clients."
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _authorization_server(metadata: OAuthMetadata) -> AuthorizationServer:
    issuer = str(metadata.issuer)
    if "S256" not in (metadata.code_challenge_methods_supported or []):
        raise DiscoveryFailed(
            f"The authorization server {issuer} does not support PKCE with S256, which "
            "orgconnectors requires so that an intercepted code cannot be used. Ask the "
            "server's operator to enable it."
        )
    if "code" not in (metadata.response_types_supported or []):
        raise DiscoveryFailed(
            f"The authorization server {issuer} does not offer the authorization code flow."
        )
    registration = str(metadata.registration_endpoint or "")
    revocation = str(metadata.revocation_endpoint or "")
    return AuthorizationServer(
        issuer=issuer,
        authorization_endpoint=check_browser_url(
            str(metadata.authorization_endpoint), what="authorization endpoint"
        ),
        token_endpoint=_checked(str(metadata.token_endpoint), what="token endpoint"),
        registration_endpoint=registration and _checked(registration, what="registration endpoint"),
        revocation_endpoint=revocation and _checked(revocation, what="revocation endpoint"),
        scopes_supported=list(metadata.scopes_supported or []),
        token_endpoint_auth_methods_supported=list(
            metadata.token_endpoint_auth_methods_supported or []
        ),
        client_id_metadata_document_supported=bool(metadata.client_id_metadata_document_supported),
        iss_parameter_supported=metadata.authorization_response_iss_parameter_supported is True,
    )


def _scope(
    challenged: str | None,
    resource: ProtectedResourceMetadata | None,
    server: AuthorizationServer,
) -> str:
    if challenged:
        scopes = challenged.split()
    elif resource is not None and resource.scopes_supported:
        scopes = list(resource.scopes_supported)
    else:
        scopes = list(server.scopes_supported)
    # Ask for refresh tokens where the server models them as a scope (SEP-2207).
    if scopes and "offline_access" in server.scopes_supported and "offline_access" not in scopes:
        scopes.append("offline_access")
    return " ".join(scopes)


def discover(server_url: str) -> Discovery:
    """Everything needed to authorize at the server; raises DiscoveryFailed saying why not."""
    resource = canonical_url(server_url)
    with build_client(library="httpx") as http:
        header_url, challenged_scope = _challenge(http, resource)
        resource_metadata = _resource_metadata(http, resource, header_url)
        issuer = None
        if resource_metadata is not None:
            issuer = str(resource_metadata.authorization_servers[0])
            _checked(issuer, what="authorization server")
        server = _authorization_server(_server_metadata(http, issuer, resource))
    return Discovery(
        resource=resource,
        server=server,
        scope=_scope(challenged_scope, resource_metadata, server),
        resource_scopes=list(
            (resource_metadata.scopes_supported or []) if resource_metadata else []
        ),
    )


def _why(error: Exception) -> str:
    # The egress guard's own words (too large, too slow) say more than an exception's name.
    return str(error) if isinstance(error, EgressError) else type(error).__name__
