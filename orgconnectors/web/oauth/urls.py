from django.urls import path

from orgconnectors.web.oauth import views

urlpatterns = [
    path("oauth/callback", views.oauth_callback, name="oauth_callback"),
    # One redirect URI per authorization server (see clients.callback_url).
    path("oauth/callback/<slug:issuer_key>", views.oauth_callback, name="oauth_callback_issuer"),
    path(
        "oauth/client-metadata/<int:pk>.json",
        views.client_metadata,
        name="oauth_client_metadata",
    ),
    path(
        "orgs/<slug:slug>/connectors/<int:connector_id>/oauth-issuer/",
        views.connector_issuer_confirm,
        name="connector_issuer_confirm",
    ),
    path(
        "orgs/<slug:slug>/my-connectors/<int:connector_id>/authorize/",
        views.connection_authorize,
        name="connection_authorize",
    ),
]
