from django.urls import path

from orgconnectors.scim import views

urlpatterns = [
    path("scim/v2/<slug:org>/.search", views.search, name="scim_search"),
    path("scim/v2/<slug:org>/Users", views.users, name="scim_users"),
    path("scim/v2/<slug:org>/Users/.search", views.users_search, name="scim_users_search"),
    path("scim/v2/<slug:org>/Users/<str:scim_id>", views.user, name="scim_user"),
    path("scim/v2/<slug:org>/Groups", views.groups, name="scim_groups"),
    path("scim/v2/<slug:org>/Groups/.search", views.groups_search, name="scim_groups_search"),
    path("scim/v2/<slug:org>/Groups/<str:scim_id>", views.group, name="scim_group"),
    path(
        "scim/v2/<slug:org>/ServiceProviderConfig",
        views.service_provider_config,
        name="scim_service_provider_config",
    ),
    path("scim/v2/<slug:org>/ResourceTypes", views.resource_types, name="scim_resource_types"),
    path(
        "scim/v2/<slug:org>/ResourceTypes/<str:type_id>",
        views.resource_types,
        name="scim_resource_type",
    ),
    path("scim/v2/<slug:org>/Schemas", views.schemas, name="scim_schemas"),
    path("scim/v2/<slug:org>/Schemas/<str:schema_id>", views.schemas, name="scim_schema"),
    path("scim/v2/<slug:org>/<path:rest>", views.unknown, name="scim_unknown"),
]
