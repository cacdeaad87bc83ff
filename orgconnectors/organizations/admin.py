from django.contrib import admin
from django.utils import timezone

from orgconnectors.core.actor import Actor
from orgconnectors.core.service_admin import ReadOnlyModelAdmin, ServiceModelAdmin

# Registered there: owners' plan requests and operator tokens.
from orgconnectors.organizations import admin_plans  # noqa: F401
from orgconnectors.organizations.invitations import invitation_revoke
from orgconnectors.organizations.models import Invitation, Membership, Organization, Plan
from orgconnectors.organizations.plan_change import organization_change_plan
from orgconnectors.organizations.services import (
    membership_add,
    membership_change_role,
    membership_remove,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Plans are data: operators change the limits here. A lower limit applies to new
    connections; existing ones stay until their member disconnects (see docs/plans.md)."""

    list_display = (
        "name",
        "code",
        "kind",
        "max_enabled_connections",
        "owners_register_connectors",
        "max_custom_connectors",
        "allows_limit_override",
        "position",
    )
    ordering = ("position", "code")

    def get_readonly_fields(self, request, obj=None):
        # Code refers to plans by code (sign-up puts new accounts on "free").
        return ("code",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(ServiceModelAdmin):
    """Only the plan and its override change here, through organization_change_plan, so a
    downgrade suspends connections beyond the new limit exactly as `set_plan` and the operator
    API do. Owners cannot change their plan; they ask (Plan change requests). Organizations are
    created with `manage.py create_org`."""

    list_display = (
        "name",
        "slug",
        "plan",
        "connection_limit_override",
        "max_enabled_connections",
        "created_at",
    )
    list_filter = ("plan",)
    search_fields = ("name", "slug")
    fields = (
        "name",
        "slug",
        "plan",
        "connection_limit_override",
        "audit_retention_grace_days",
        "audit_retention_grace_until",
        "created_at",
    )
    readonly_fields = (
        "name",
        "slug",
        "audit_retention_grace_days",
        "audit_retention_grace_until",
        "created_at",
    )
    inlines = (MembershipInline,)
    list_select_related = ("plan",)

    @admin.display(description="Connection limit")
    def max_enabled_connections(self, organization):
        return organization.max_enabled_connections

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not {"plan", "connection_limit_override"} & set(form.changed_data):
            return
        plan = form.cleaned_data["plan"]
        limit_override = form.cleaned_data["connection_limit_override"]
        if "connection_limit_override" not in form.changed_data and not plan.allows_limit_override:
            # Moving off Enterprise: the old override goes with it, unless typed in again.
            limit_override = None
        organization_change_plan(
            organization=obj,
            plan=plan,
            limit_override=limit_override,
            actor=Actor.from_request(request),
        )

    def save_related(self, request, form, formsets, change):
        # The membership inline is read-only: nothing to save.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(Membership)
class MembershipAdmin(ServiceModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__email", "organization__name", "organization__slug")
    autocomplete_fields = ("user", "organization")
    list_select_related = ("user", "organization")

    def get_readonly_fields(self, request, obj=None):
        return ("user", "organization", "created_at") if obj else ("created_at",)

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if not change:
            created = membership_add(
                organization=obj.organization, user=obj.user, role=obj.role, actor=actor
            )
            obj.pk, obj.created_at = created.pk, created.created_at
        elif "role" in form.changed_data:
            membership_change_role(membership=obj, role=obj.role, actor=actor)

    def delete_model(self, request, obj):
        membership_remove(membership=obj, actor=Actor.from_request(request))


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyModelAdmin):
    list_display = ("email", "organization", "role", "status", "invited_by", "expires_at")
    list_filter = ("role", "organization")
    search_fields = ("email", "organization__name", "organization__slug")
    # The hash of the link's secret stays out of every page.
    exclude = ("token_hash",)
    list_select_related = ("organization", "invited_by")
    actions = ("revoke",)

    @admin.display(description="Status")
    def status(self, invitation):
        if invitation.accepted_at:
            return "accepted"
        if invitation.revoked_at:
            return "revoked"
        if invitation.expires_at <= timezone.now():
            return "expired"
        return "pending"

    def has_revoke_permission(self, request) -> bool:
        # The page is read-only (no change permission here); revoking needs the model's.
        return request.user.has_perm("organizations.change_invitation")

    @admin.action(description="Revoke the selected invitations", permissions=["revoke"])
    def revoke(self, request, queryset):
        actor = Actor.from_request(request)
        self.run_for_each(
            request,
            queryset,
            lambda invitation: invitation_revoke(invitation=invitation, actor=actor),
            done="Revoked {count} invitation(s).",
        )
