"""allauth's OpenID Connect provider, adapted to be the gateway's authorization server.

- The issuer is ORGCONNECTORS_BASE_URL (not the host a request happened to use), so metadata,
  tokens and the protected resource documents agree behind a proxy.
- Every `resource` (RFC 8707) must be one of the gateway's endpoints, of a connector that exists:
  the token's audience is then that endpoint and nothing else.
- The metadata says what MCP clients look for: PKCE S256, Client ID Metadata Documents, the
  resource parameter.
- The ID-token signing key comes from ORGCONNECTORS_GATEWAY_SIGNING_KEY, or one generated once
  into the var directory (signing_key.py).
"""

from typing import Any, Literal
from urllib.parse import urlparse

from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.internal.resources import InvalidTargetError
from allauth.idp.oidc.models import PrivateKey
from django.core.exceptions import ValidationError

from orgconnectors.gateway.authorization import endpoints, signing_key

# What the gateway asks for: who the member is. The audience (the endpoint), not a scope, says
# which connector a token reaches.
GATEWAY_SCOPES = ["openid"]


class ResourceRefused(InvalidTargetError):
    """An OAuth `invalid_target` error whose description says which resource and why."""

    def __init__(self, description: str) -> None:
        super().__init__(description=description)


def check_resource(resource: str) -> endpoints.Endpoint:
    """The gateway endpoint `resource` names, or ResourceRefused saying why it is not one."""
    endpoint = endpoints.endpoint_for_resource(resource)
    if endpoint is None:
        raise ResourceRefused(
            f"{resource} is not an endpoint of this gateway: resources look like "
            f"{endpoints.base_url()}/mcp/<organization>/<connector>."
        )
    if endpoints.connector_for(endpoint) is None:
        raise ResourceRefused(f"{resource} names no connector of this gateway.")
    return endpoint


class GatewayOIDCAdapter(DefaultOIDCAdapter):
    scope_display = {
        **DefaultOIDCAdapter.scope_display,
        "openid": "Know who you are (your account on this dashboard)",
    }

    def get_issuer(self) -> str:
        return endpoints.issuer()

    def validate_resource_uris(self, *, uris: list[str], **kwargs: Any) -> None:
        for uri in uris:
            check_resource(uri)

    def validate_client_registration(
        self, *, client, client_metadata: dict[str, Any], **kwargs: Any
    ) -> None:
        # Open registration (Claude.ai, Claude Code and the Inspector register themselves), so
        # the redirect URIs are what keeps a code from reaching anyone else: https, or http on
        # this machine's loopback (native apps, RFC 8252).
        for uri in client.get_redirect_uris():
            parsed = urlparse(uri)
            loopback = parsed.scheme == "http" and parsed.hostname in (
                "127.0.0.1",
                "::1",
                "localhost",
            )
            if parsed.scheme != "https" and not loopback:
                raise ValidationError(
                    f"Redirect URI {uri} is refused: use https, or http on a loopback address."
                )
            if parsed.fragment:
                raise ValidationError(f"Redirect URI {uri} must not carry a fragment.")

    def populate_server_metadata(self, data: dict) -> None:
        # Every endpoint at the public URL, whatever host the request came in by.
        base = urlparse(endpoints.base_url())
        for name, value in list(data.items()):
            if isinstance(value, str) and (name.endswith("_endpoint") or name == "jwks_uri"):
                parsed = urlparse(value)._replace(scheme=base.scheme, netloc=base.netloc)
                data[name] = parsed.geturl()
        data["code_challenge_methods_supported"] = ["S256"]
        data["client_id_metadata_document_supported"] = True
        data["resource_parameter_supported"] = True
        data["response_types_supported"] = ["code"]
        data["grant_types_supported"] = ["authorization_code", "refresh_token"]
        data["service_documentation"] = endpoints.base_url() + "/"

    def list_private_keys(
        self,
        *,
        did_activate: Literal[True] | None = None,
        is_active: Literal[True] | None = None,
    ) -> list[PrivateKey]:
        return [PrivateKey(pem=signing_key.signing_key_pem())]
