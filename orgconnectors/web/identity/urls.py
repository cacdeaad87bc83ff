"""The owners' Sign-in page: how the organization's identity provider reaches orgconnectors."""

from django.urls import path

from orgconnectors.web.identity import break_glass, domains, group_urls, sso, views

urlpatterns = [
    path("orgs/<slug:slug>/sign-in/", views.sign_in_settings, name="sign_in_settings"),
    path("orgs/<slug:slug>/sign-in/sso/", sso.sso_settings_save, name="sso_settings"),
    path("orgs/<slug:slug>/sign-in/sso/remove/", sso.sso_settings_remove, name="sso_remove"),
    # The login page's "Sign in with single sign-on" (anyone, signed in or not).
    path("sign-in/sso/", sso.sso_login, name="sso_login"),
    path("orgs/<slug:slug>/sign-in/domains/", domains.domain_claim_view, name="domain_claim"),
    path(
        "orgs/<slug:slug>/sign-in/domains/<int:domain_id>/verify/",
        domains.domain_verify_view,
        name="domain_verify",
    ),
    path(
        "orgs/<slug:slug>/sign-in/domains/<int:domain_id>/release/",
        domains.domain_release_view,
        name="domain_release",
    ),
    path("orgs/<slug:slug>/sign-in/require-sso/", domains.require_sso_view, name="require_sso"),
    # The link is the credential, good for whoever holds it (identity/break_glass.py).
    path("sign-in/break-glass/<str:token>/", break_glass.break_glass, name="break_glass"),
    path(
        "orgs/<slug:slug>/connectors/<int:connector_id>/access/",
        views.connector_access,
        name="connector_access",
    ),
]

urlpatterns += group_urls.urlpatterns
