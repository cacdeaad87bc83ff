from django.urls import path

from orgconnectors.web.health import views

org = "orgs/<slug:slug>/"
run = org + "health-runs/<int:run_id>/"

urlpatterns = [
    path(org + "connectors/check-all/", views.health_check_all, name="health_check_all"),
    path(
        org + "connectors/<int:connector_id>/check/",
        views.health_check_now,
        name="health_check_now",
    ),
    path(run, views.health_run, name="health_run"),
    path(run + "progress/", views.health_run_progress_fragment, name="health_run_progress"),
]
