from django.urls import path

from orgconnectors.web.messages_api import views

org = "orgs/<slug:slug>/"

urlpatterns = [
    path(org + "use-with-the-api/", views.messages_api_config, name="messages_api_config"),
    path(org + "plan/zero-data-retention/", views.organization_zdr, name="organization_zdr"),
    path("tools/migrate-mcp-request/", views.mcp_request_migrate, name="mcp_request_migrate"),
]
