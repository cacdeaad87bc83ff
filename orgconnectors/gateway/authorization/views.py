"""The documents MCP clients read to find the authorization server, and allauth's token
endpoint with one more refusal turned into an OAuth error.

- `/.well-known/oauth-protected-resource/mcp/{org}/{connector}`: RFC 9728 protected resource
  metadata of one gateway endpoint (the resource, its authorization server, the scopes).
- `/.well-known/oauth-authorization-server`: RFC 8414 metadata; allauth's OpenID Connect
  discovery document (also served, at `/.well-known/openid-configuration`), adapted by
  adapter.populate_server_metadata.
"""

from http import HTTPStatus

from allauth.idp.oidc import views as oidc_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from orgconnectors.gateway.authorization import endpoints
from orgconnectors.gateway.authorization.adapter import GATEWAY_SCOPES


def _json(data: dict, status: int = HTTPStatus.OK) -> JsonResponse:
    response = JsonResponse(data, status=status)
    # Browser-based clients (the MCP Inspector) read these documents across origins.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def protected_resource_metadata(request: HttpRequest, path: str) -> JsonResponse:
    endpoint = endpoints.endpoint_for_path("/" + path)
    if endpoint is None or endpoints.connector_for(endpoint) is None:
        return _json(
            {
                "error": "not_found",
                "error_description": (
                    "No gateway endpoint here: endpoints look like "
                    f"{endpoints.base_url()}/mcp/<organization>/<connector>."
                ),
            },
            HTTPStatus.NOT_FOUND,
        )
    return _json(
        {
            "resource": endpoint.url,
            "authorization_servers": [endpoints.issuer()],
            "scopes_supported": GATEWAY_SCOPES,
            "bearer_methods_supported": ["header"],
            "resource_documentation": endpoints.base_url() + "/",
        }
    )


# RFC 8414 at its well-known place: allauth's discovery view, as adapted.
authorization_server_metadata = oidc_views.configuration


class TokenView(oidc_views.TokenView):
    """allauth's token endpoint; a malformed `resource` (which allauth raises as a Django
    ValidationError, outside the OAuth errors it answers) is an `invalid_target` error."""

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().post(request)
        except ValidationError as invalid:
            return _json(
                {"error": "invalid_target", "error_description": " ".join(invalid.messages)},
                HTTPStatus.BAD_REQUEST,
            )


token = TokenView.as_view()
