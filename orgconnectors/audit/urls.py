from django.urls import path

from orgconnectors.audit import views

urlpatterns = [
    path("orgs/<slug:slug>/audit/", views.audit_list, name="audit_list"),
    path("orgs/<slug:slug>/audit/<int:event_id>/", views.audit_detail, name="audit_detail"),
]
