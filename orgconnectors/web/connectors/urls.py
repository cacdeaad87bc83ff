from django.urls import path

from orgconnectors.web.connectors import tool_views, views

org = "orgs/<slug:slug>/"
connector = org + "connectors/<int:connector_id>/"
mine = org + "my-connectors/<int:connector_id>/"

urlpatterns = [
    path(org + "connectors/", views.connector_list, name="connector_list"),
    path(org + "connectors/add/", views.connector_add, name="connector_add"),
    path(org + "quotas/", views.quota_list, name="quota_list"),
    path(org + "gateway/live/", views.gateway_live, name="gateway_live"),
    path(org + "gateway/approvals/", views.approval_list, name="approval_list"),
    path(
        org + "gateway/approvals/settings/",
        views.approval_settings,
        name="approval_settings",
    ),
    path(
        org + "gateway/approvals/<int:approval_id>/",
        views.approval_decide,
        name="approval_decide",
    ),
    path(org + "gateway/sessions/end/", views.gateway_session_end, name="gateway_session_end"),
    path(connector + "pause/", views.connector_pause, name="connector_pause"),
    path(org + "quotas/<int:quota_id>/remove/", views.quota_delete, name="quota_delete"),
    path(connector, views.connector_detail, name="connector_detail"),
    path(connector + "edit/", views.connector_edit, name="connector_edit"),
    path(connector + "tools/", views.connector_tools, name="connector_tools"),
    path(
        connector + "tools/review/",
        tool_views.connector_tool_review,
        name="connector_tool_review",
    ),
    path(connector + "remove/", views.connector_remove, name="connector_remove"),
    path(org + "tool-changes/", tool_views.tool_changes, name="tool_changes"),
    path(org + "my-connectors/", views.my_connectors, name="my_connectors"),
    path(mine + "connect/", views.connection_enable, name="connection_enable"),
    path(mine + "disconnect/", views.connection_disable, name="connection_disable"),
]
