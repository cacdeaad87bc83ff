"""The owners' Groups page: groups made in the dashboard, beside those SCIM provisioned."""

from django.urls import path

from orgconnectors.web.identity import group_views

urlpatterns = [
    path("orgs/<slug:slug>/groups/", group_views.groups, name="groups"),
    path(
        "orgs/<slug:slug>/groups/<uuid:group_id>/rename/",
        group_views.group_rename_view,
        name="group_rename",
    ),
    path(
        "orgs/<slug:slug>/groups/<uuid:group_id>/delete/",
        group_views.group_delete_view,
        name="group_delete",
    ),
    path(
        "orgs/<slug:slug>/groups/<uuid:group_id>/members/",
        group_views.group_members_view,
        name="group_members",
    ),
]
