from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from orgconnectors.accounts.models import User
from orgconnectors.accounts.services import user_delete
from orgconnectors.core.actor import Actor
from orgconnectors.core.service_admin import ServiceModelAdmin


@admin.register(User)
class UserAdmin(ServiceModelAdmin, BaseUserAdmin):
    """Deleting a person ends each membership through the services: their OAuth tokens are
    revoked at the servers, and no organization with other members loses its last owner."""

    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_deleted_objects(self, objs, request):
        # What goes with a person (memberships, tokens, connections) is the service's to end;
        # deleting them needs the permission to delete people, not to edit each read-only row.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request, obj):
        user_delete(user=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request, queryset):
        # Unused while the bulk action is off (ServiceModelAdmin), kept on the service anyway.
        actor = Actor.from_request(request)
        for user in queryset:
            user_delete(user=user, actor=actor)
