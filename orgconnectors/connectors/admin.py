from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, Q

from orgconnectors.connectors.connections import connection_disable, connection_enable
from orgconnectors.connectors.models import Connection, Connector, ToolOverride
from orgconnectors.connectors.services import (
    connector_register,
    connector_remove,
    connector_set_tool_policy,
    connector_update,
)
from orgconnectors.core.actor import Actor
from orgconnectors.core.service_admin import ReadOnlyModelAdmin, ServiceModelAdmin

# What an operator may set; everything else on a connector is written by health checks and OAuth.
_EDITABLE = ("name", "transport", "auth", "oauth_client_id", "tool_default")
_SET_ON_ADD = ("organization", "url", "directory_slug")
_SECRET = "oauth_client_secret_encrypted"


def _written_elsewhere() -> tuple[str, ...]:
    return tuple(
        field.name
        for field in Connector._meta.concrete_fields
        if field.name not in (*_EDITABLE, *_SET_ON_ADD, _SECRET, "id")
    )


class ConnectorAdminForm(forms.ModelForm):
    # Write-only: the stored secret is never rendered, not even encrypted.
    oauth_client_secret = forms.CharField(
        label="New OAuth client secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current secret.",
    )

    class Meta:
        model = Connector
        # The admin adds organization, url and directory_slug on the add page.
        fields = _EDITABLE


class ToolOverrideInline(admin.TabularInline):
    model = ToolOverride
    fields = ("tool_name", "enabled")
    extra = 0


@admin.register(Connector)
class ConnectorAdmin(ServiceModelAdmin):
    form = ConnectorAdminForm
    inlines = (ToolOverrideInline,)
    list_display = (
        "name",
        "organization",
        "url",
        "auth",
        "status",
        "last_checked_at",
        "members_connected",
    )
    list_filter = ("status", "auth", "organization")
    search_fields = ("name", "url", "organization__name", "organization__slug")
    list_select_related = ("organization",)
    autocomplete_fields = ("organization",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            # A URL typed without a scheme means https (Django 6's default; MCP servers are https).
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        in_use = Q(connections__state__in=Connection.IN_USE)
        return super().get_queryset(request).annotate(_members=Count("connections", filter=in_use))

    @admin.display(description="Members connected", ordering="_members")
    def members_connected(self, connector):
        return connector._members

    @admin.display(description="OAuth client secret")
    def client_secret_state(self, connector):
        return "a secret is set" if connector.has_client_secret else "no secret"

    def get_fieldsets(self, request, obj=None):
        return (
            (None, {"fields": (*_SET_ON_ADD, "name")}),
            (
                "Connection",
                {
                    "fields": (
                        "transport",
                        "auth",
                        "oauth_client_id",
                        "oauth_client_secret",
                        "client_secret_state",
                        "tool_default",
                    )
                },
            ),
            ("Status (written by health checks)", {"fields": _written_elsewhere()}),
        )

    def get_readonly_fields(self, request, obj=None):
        set_on_add = _SET_ON_ADD if obj else ()
        return (*set_on_add, "client_secret_state", *_written_elsewhere())

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor = Actor.from_request(request)
        if change:
            connector_update(
                connector=obj,
                actor=actor,
                name=data["name"],
                transport=data["transport"],
                auth=data["auth"],
                oauth_client_id=data["oauth_client_id"],
                oauth_client_secret=data["oauth_client_secret"],
            )
            return
        created = connector_register(
            organization=data["organization"],
            actor=actor,
            name=data["name"],
            url=data["url"],
            transport=data["transport"],
            auth=data["auth"],
            oauth_client_id=data["oauth_client_id"],
            oauth_client_secret=data["oauth_client_secret"],
            tool_default=data["tool_default"],
            directory_slug=data["directory_slug"],
        )
        obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        # The whole policy (default + overrides) goes through one service call, which records
        # it in the audit trail; the inline's rows are never saved directly.
        overrides = {}
        for formset in formsets:
            for row in formset.forms:
                if row.cleaned_data and not row.cleaned_data.get("DELETE"):
                    overrides[row.cleaned_data["tool_name"]] = row.cleaned_data["enabled"]
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        connector_set_tool_policy(
            connector=form.instance,
            actor=Actor.from_request(request),
            default=form.cleaned_data["tool_default"],
            overrides=overrides,
        )

    def delete_model(self, request, obj):
        connector_remove(connector=obj, actor=Actor.from_request(request))


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyModelAdmin):
    """Read-only: a connection changes only through the actions, which call the same services as
    the member's own buttons, so the plan's limit holds here too."""

    list_display = ("member", "organization", "connector", "state", "enabled_at", "updated_at")
    list_filter = ("state", "connector__organization")
    search_fields = ("membership__user__email", "connector__name", "connector__organization__slug")
    list_select_related = ("membership__user", "connector__organization")
    actions = ("enable_for_member", "disable")

    @admin.display(description="Member", ordering="membership__user__email")
    def member(self, connection):
        return connection.membership.user.email

    @admin.display(description="Organization", ordering="connector__organization__name")
    def organization(self, connection):
        return connection.connector.organization

    def has_switch_permission(self, request) -> bool:
        # The page is read-only (no change permission here); switching needs the model's.
        return request.user.has_perm("connectors.change_connection")

    @admin.action(description="Enable for the member", permissions=["switch"])
    def enable_for_member(self, request, queryset):
        actor = Actor.from_request(request)
        self.run_for_each(
            request,
            queryset,
            lambda c: connection_enable(
                membership=c.membership, connector=c.connector, actor=actor
            ),
            done="Enabled {count} connection(s) (or they already were).",
        )

    @admin.action(description="Disable", permissions=["switch"])
    def disable(self, request, queryset):
        actor = Actor.from_request(request)
        self.run_for_each(
            request,
            queryset,
            lambda c: connection_disable(
                membership=c.membership, connector=c.connector, actor=actor
            ),
            done="Disabled {count} connection(s).",
        )
