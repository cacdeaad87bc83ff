from django.urls import path

from orgconnectors.web.audit import digest_views, export_views, usage_views, views

urlpatterns = [
    path("orgs/<slug:slug>/audit/", views.audit_list, name="audit_list"),
    path("orgs/<slug:slug>/audit/export/", views.audit_export, name="audit_export"),
    path("orgs/<slug:slug>/audit/<int:event_id>/", views.audit_detail, name="audit_detail"),
    path("orgs/<slug:slug>/audit/digests/", digest_views.audit_digests, name="audit_digests"),
    path(
        "orgs/<slug:slug>/audit/digests.json",
        digest_views.audit_digests_json,
        name="audit_digests_json",
    ),
    path("orgs/<slug:slug>/usage/", usage_views.usage_page, name="usage"),
    path(
        "orgs/<slug:slug>/usage/tool-calls/", usage_views.usage_tool_calls, name="usage_tool_calls"
    ),
    path(
        "orgs/<slug:slug>/usage/tool-calls/bodies/",
        usage_views.tool_call_bodies_setting,
        name="tool_call_bodies_setting",
    ),
    path(
        "orgs/<slug:slug>/usage/tool-calls/<slug:call_id>/",
        usage_views.tool_call_body_page,
        name="tool_call_body",
    ),
    path("orgs/<slug:slug>/usage/events/", usage_views.usage_events, name="usage_events"),
    path("orgs/<slug:slug>/usage/export/", usage_views.usage_export, name="usage_export"),
    path(
        "orgs/<slug:slug>/exports/<int:job_id>/",
        export_views.export_detail,
        name="export_detail",
    ),
    path(
        "orgs/<slug:slug>/exports/<int:job_id>/download/",
        export_views.export_download,
        name="export_download",
    ),
]
