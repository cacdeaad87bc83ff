"""Claimed email domains in the admin: operators read them and vouch for one when its owners
cannot publish a TXT record ("Verify (operator)"), through the same service and audit trail."""

from django.contrib import admin

from orgconnectors.core.actor import Actor
from orgconnectors.core.service_admin import ReadOnlyModelAdmin
from orgconnectors.identity.domains import domain_verify_by_operator
from orgconnectors.identity.models import ClaimedDomain


@admin.register(ClaimedDomain)
class ClaimedDomainAdmin(ReadOnlyModelAdmin):
    list_display = (
        "domain",
        "organization",
        "verified_at",
        "verified_by",
        "last_checked_at",
        "last_check_error",
    )
    list_filter = ("verified_by",)
    search_fields = ("domain", "organization__slug", "organization__name")
    fields = list_display + ("created_at",)
    readonly_fields = fields
    actions = ["verify_by_operator"]

    def has_verify_permission(self, request) -> bool:
        # The page is read-only (no change permission here); vouching needs the model's.
        return request.user.has_perm("identity.change_claimeddomain")

    @admin.action(description="Verify (operator)", permissions=["verify"])
    def verify_by_operator(self, request, queryset):
        operator = Actor.from_request(request)
        self.run_for_each(
            request,
            queryset.select_related("organization"),
            lambda claimed: domain_verify_by_operator(claimed_domain=claimed, operator=operator),
            done="Verified {count} domain(s).",
        )
