"""The token pages of the web dashboard (the JSON API itself is in api/urls.py)."""

from django.urls import path

from orgconnectors.web.api_tokens import views

urlpatterns = [
    path("orgs/<slug:slug>/api-tokens/", views.api_token_list, name="api_token_list"),
    path(
        "orgs/<slug:slug>/api-tokens/<int:token_id>/revoke/",
        views.api_token_revoke,
        name="api_token_revoke",
    ),
]
