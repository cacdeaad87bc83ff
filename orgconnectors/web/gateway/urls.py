from django.urls import path

from orgconnectors.web.gateway import views

org = "orgs/<slug:slug>/"

urlpatterns = [
    # Before allauth's provider URLs (orgconnectors/urls.py): the same path, the dashboard's page.
    path("identity/o/authorize", views.consent, name="gateway_consent"),
    path(org + "add-to-claude/", views.add_to_claude, name="add_to_claude"),
    path(org + "plan/member-apps-reach/", views.member_apps_reach, name="member_apps_reach"),
]
