"""Health checks in the admin: the record of what was found, never edited by hand."""

from django.contrib import admin

from orgconnectors.core.service_admin import ReadOnlyModelAdmin
from orgconnectors.health.models import HealthCheck, HealthDailyRollup, HealthRun


@admin.register(HealthRun)
class HealthRunAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "organization", "kind", "requested_by", "done", "total")
    list_filter = ("kind",)
    search_fields = ("organization__slug", "requested_by__email")
    list_select_related = ("organization", "requested_by")
    ordering = ("-created_at", "-id")


@admin.register(HealthCheck)
class HealthCheckAdmin(ReadOnlyModelAdmin):
    list_display = (
        "checked_at",
        "connector",
        "organization",
        "outcome",
        "latency_ms",
        "transport",
        "tool_count",
        "error",
    )
    list_filter = ("outcome", "transport")
    search_fields = ("connector__name", "organization__slug", "error")
    list_select_related = ("connector", "organization")
    ordering = ("-checked_at", "-id")
    # A week of checks of every connector: counting them all on each page would be slow.
    show_full_result_count = False


@admin.register(HealthDailyRollup)
class HealthDailyRollupAdmin(ReadOnlyModelAdmin):
    list_display = (
        "day",
        "connector",
        "checks",
        "up_checks",
        "uptime",
        "p50_latency_ms",
        "p95_latency_ms",
    )
    search_fields = ("connector__name",)
    list_select_related = ("connector",)
    ordering = ("-day", "connector")

    @admin.display(description="Uptime")
    def uptime(self, rollup: HealthDailyRollup) -> str:
        return f"{rollup.uptime_percent:.2f}%"
