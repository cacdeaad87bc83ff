"""The owners' Sign-in page: how the organization's identity provider reaches orgconnectors."""

from django.urls import path

from orgconnectors.web.identity import group_urls, views

urlpatterns = [
    path("orgs/<slug:slug>/sign-in/", views.sign_in_settings, name="sign_in_settings"),
    path(
        "orgs/<slug:slug>/connectors/<int:connector_id>/access/",
        views.connector_access,
        name="connector_access",
    ),
]

urlpatterns += group_urls.urlpatterns
