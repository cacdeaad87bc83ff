"""The owners' Sign-in page: how the organization's identity provider reaches orgconnectors."""

from django.urls import path

from orgconnectors.web.identity import sso, views

urlpatterns = [
    path("orgs/<slug:slug>/sign-in/", views.sign_in_settings, name="sign_in_settings"),
    path("orgs/<slug:slug>/sign-in/sso/", sso.sso_settings_save, name="sso_settings"),
    path("orgs/<slug:slug>/sign-in/sso/remove/", sso.sso_settings_remove, name="sso_remove"),
    # The login page's "Sign in with single sign-on" (anyone, signed in or not).
    path("sign-in/sso/", sso.sso_login, name="sso_login"),
    path(
        "orgs/<slug:slug>/connectors/<int:connector_id>/access/",
        views.connector_access,
        name="connector_access",
    ),
]
