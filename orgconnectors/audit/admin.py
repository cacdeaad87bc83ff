from django.contrib import admin

from orgconnectors.audit.models import AuditEvent, UsageEvent
from orgconnectors.core.service_admin import ReadOnlyModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """The trail is evidence: nobody adds, edits or deletes an event, not even a superuser
    (the database refuses it too)."""

    list_display = (
        "created_at", "organization", "actor_label", "action", "outcome", "target_label", "ip",
    )  # fmt: skip
    list_filter = ("action", "outcome", "target_type", "organization")
    search_fields = ("actor_label", "action", "target_label", "target_id")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)
    ordering = ("-created_at", "-id")


@admin.register(UsageEvent)
class UsageEventAdmin(ReadOnlyModelAdmin):
    # No joins and no counting: the table holds millions of rows.
    list_display = ("created_at", "organization_id", "kind", "user_id", "connector_id", "ip")
    list_filter = ("kind",)
    show_full_result_count = False
    ordering = ("-created_at", "-id")
