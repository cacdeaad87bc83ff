from django.contrib import admin

from orgconnectors.audit.models import AuditEvent
from orgconnectors.service_admin import ReadOnlyModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """The trail is evidence: nobody adds, edits or deletes an event, not even a superuser."""

    list_display = ("created_at", "organization", "actor_label", "action", "target_label", "ip")
    list_filter = ("action", "target_type", "organization")
    search_fields = ("actor_label", "action", "target_label", "target_id")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)
    ordering = ("-created_at", "-id")
