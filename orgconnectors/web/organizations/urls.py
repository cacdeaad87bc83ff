from django.urls import path

from orgconnectors.web.organizations import views

org = "orgs/<slug:slug>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(org, views.org_home, name="org_home"),
    path(org + "members/", views.member_list, name="member_list"),
    path(org + "members/invite/", views.member_invite, name="member_invite"),
    path(org + "members/<int:member_id>/role/", views.member_role, name="member_role"),
    path(org + "members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path(
        org + "invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path(org + "plan/", views.plan, name="plan"),
    path(org + "plan/preview/", views.plan_preview, name="plan_preview"),
    path(org + "plan/request/", views.plan_request, name="plan_request"),
    path(org + "plan/two-factor/", views.organization_mfa, name="organization_mfa"),
    path(
        org + "plan/tool-governance/",
        views.organization_tool_governance,
        name="organization_tool_governance",
    ),
]
