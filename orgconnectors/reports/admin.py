from django.contrib import admin

from orgconnectors.core.service_admin import ReadOnlyModelAdmin
from orgconnectors.reports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyModelAdmin):
    list_display = (
        "created_at", "organization", "requested_by", "source", "format", "status",
        "rows_written", "expires_at",
    )  # fmt: skip
    list_filter = ("status", "source", "format")
    list_select_related = ("organization", "requested_by")
    ordering = ("-created_at",)
