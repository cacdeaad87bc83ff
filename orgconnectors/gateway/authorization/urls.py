"""The authorization server's URLs: the metadata documents, then allauth's provider (discovery,
JWKS, authorization, token, registration, revocation, userinfo) under `identity/o/`. The
consent page (`identity/o/authorize`) is the dashboard's: orgconnectors/web/gateway."""

from django.urls import include, path

from orgconnectors.gateway.authorization import views

urlpatterns = [
    path(
        ".well-known/oauth-protected-resource/<path:path>",
        views.protected_resource_metadata,
        name="gateway_protected_resource_metadata",
    ),
    path(
        ".well-known/oauth-authorization-server",
        views.authorization_server_metadata,
        name="gateway_authorization_server_metadata",
    ),
    path("identity/o/api/token", views.token, name="gateway_token"),
    path("", include("allauth.idp.urls")),
]
