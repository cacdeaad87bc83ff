from django.contrib import admin

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import api_token_revoke
from orgconnectors.core.actor import Actor
from orgconnectors.core.service_admin import ReadOnlyModelAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin):
    list_display = (
        "name",
        "prefix",
        "user",
        "organization",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("organization",)
    search_fields = ("name", "prefix", "user__email", "organization__slug")
    # Only the hash is stored, and even that stays out of the pages.
    exclude = ("token_hash",)
    list_select_related = ("user", "organization")
    actions = ("revoke",)

    def has_revoke_permission(self, request) -> bool:
        # The page is read-only (no change permission here); revoking needs the model's.
        return request.user.has_perm("api.change_apitoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        actor = Actor.from_request(request)
        self.run_for_each(
            request,
            queryset,
            lambda api_token: api_token_revoke(api_token=api_token, actor=actor),
            done="Revoked {count} token(s).",
        )
