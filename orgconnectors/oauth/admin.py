"""Member OAuth in the admin: shown to operators, changed only through the dashboard's flows.

No secret is displayed, not even encrypted: client secrets, tokens and PKCE verifiers are
excluded, and the lists say only whether one is set.
"""

from django.contrib import admin

from orgconnectors.oauth.models import (
    OAuthClient,
    OAuthCredential,
    PendingAuthorization,
    TokenRevocation,
)
from orgconnectors.service_admin import ReadOnlyModelAdmin


@admin.register(OAuthClient)
class OAuthClientAdmin(ReadOnlyModelAdmin):
    list_display = ("connector", "issuer", "kind", "client_id", "has_secret", "updated_at")
    list_filter = ("kind",)
    search_fields = ("issuer", "client_id", "connector__name", "connector__organization__slug")
    exclude = ("client_secret_encrypted",)
    list_select_related = ("connector",)

    @admin.display(boolean=True, description="Secret set")
    def has_secret(self, client: OAuthClient) -> bool:
        return bool(client.client_secret_encrypted)


@admin.register(OAuthCredential)
class OAuthCredentialAdmin(ReadOnlyModelAdmin):
    list_display = (
        "connection",
        "client",
        "scope",
        "expires_at",
        "next_refresh_at",
        "last_refreshed_at",
        "refresh_failures",
        "can_refresh",
    )
    list_filter = ("client__kind",)
    search_fields = (
        "connection__membership__user__email",
        "connection__connector__name",
        "client__issuer",
    )
    exclude = ("access_token_encrypted", "refresh_token_encrypted", "refresh_lease_token")
    list_select_related = ("connection__membership__user", "connection__connector", "client")

    @admin.display(boolean=True, description="Refresh token")
    def can_refresh(self, credential: OAuthCredential) -> bool:
        return bool(credential.refresh_token_encrypted)


@admin.register(PendingAuthorization)
class PendingAuthorizationAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "connector", "purpose", "scope", "created_at", "expires_at", "used_at")
    list_filter = ("purpose",)
    search_fields = ("user__email", "connector__name")
    # The state's and session's hashes identify a request in flight: not for display either.
    exclude = ("code_verifier_encrypted", "state_hash", "session_hash")
    list_select_related = ("user", "connector")


@admin.register(TokenRevocation)
class TokenRevocationAdmin(ReadOnlyModelAdmin):
    list_display = ("target_label", "organization", "revocation_endpoint", "attempts", "created_at")
    search_fields = ("target_label", "organization__slug")
    exclude = (
        "client_secret_encrypted",
        "access_token_encrypted",
        "refresh_token_encrypted",
    )
    list_select_related = ("organization",)
