"""Admin pages of the operator's side of plans: owners' requests and operator tokens."""

from django.contrib import admin

from orgconnectors.core.actor import Actor
from orgconnectors.core.service_admin import ReadOnlyModelAdmin
from orgconnectors.organizations.models import OperatorToken, PlanChangeRequest
from orgconnectors.organizations.operator_tokens import operator_token_revoke
from orgconnectors.organizations.plan_requests import (
    plan_change_request_apply,
    plan_change_request_decline,
)


@admin.register(PlanChangeRequest)
class PlanChangeRequestAdmin(ReadOnlyModelAdmin):
    """Owners' requests for another plan. Applying one goes through organization_change_plan:
    connections beyond the new limit are suspended and the change is audited."""

    list_display = (
        "organization",
        "plan",
        "connection_limit",
        "requested_by_email",
        "created_at",
        "status",
        "decided_by",
    )
    list_filter = ("status", "plan")
    search_fields = ("organization__name", "organization__slug", "requested_by_email")
    list_select_related = ("organization", "plan")
    exclude = ("requested_by",)
    actions = ("apply", "decline")

    def has_decide_permission(self, request):
        # Applying changes the organization's plan: the same permission as editing it.
        return request.user.has_perm("organizations.change_organization")

    @admin.action(
        description="Apply the selected requests (changes the plan)", permissions=["decide"]
    )
    def apply(self, request, queryset):
        actor = Actor.from_request(request)
        self.run_for_each(
            request,
            queryset.select_related("organization", "plan"),
            lambda plan_request: plan_change_request_apply(request=plan_request, actor=actor),
            done="Applied {count} request(s).",
        )

    @admin.action(description="Decline the selected requests", permissions=["decide"])
    def decline(self, request, queryset):
        actor = Actor.from_request(request)
        self.run_for_each(
            request,
            queryset,
            lambda plan_request: plan_change_request_decline(request=plan_request, actor=actor),
            done="Declined {count} request(s).",
        )


@admin.register(OperatorToken)
class OperatorTokenAdmin(ReadOnlyModelAdmin):
    """Tokens of the operator API; created with `manage.py create_operator_token`."""

    list_display = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    # The hash stays out of every page.
    exclude = ("token_hash",)
    actions = ("revoke",)

    def has_revoke_permission(self, request):
        return request.user.has_perm("organizations.change_operatortoken")

    @admin.action(description="Revoke the selected operator tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        self.run_for_each(
            request,
            queryset,
            lambda operator_token: operator_token_revoke(operator_token=operator_token),
            done="Revoked {count} operator token(s).",
        )
