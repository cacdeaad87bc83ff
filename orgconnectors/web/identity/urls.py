"""The owners' Sign-in page: how the organization's identity provider reaches orgconnectors."""

from django.urls import path

from orgconnectors.web.identity import break_glass, domains, group_urls, views

urlpatterns = [
    path("orgs/<slug:slug>/sign-in/", views.sign_in_settings, name="sign_in_settings"),
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
