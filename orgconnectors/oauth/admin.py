"""Member OAuth in the admin: shown to operators, changed only through the dashboard's flows.

No secret is displayed, not even encrypted: client secrets, tokens and PKCE verifiers are
excluded, and the lists say only whether one is set.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_http_methods

from orgconnectors.core.actor import Actor
from orgconnectors.core.service_admin import ReadOnlyModelAdmin
from orgconnectors.encryption import key_fingerprint
from orgconnectors.encryption.rotation import secrets_count
from orgconnectors.oauth.errors import KeyRotationRefused
from orgconnectors.oauth.key_rotation_runs import key_rotation_start
from orgconnectors.oauth.models import (
    KeyRotation,
    OAuthClient,
    OAuthCredential,
    PendingAuthorization,
    TokenRevocation,
)
from orgconnectors.oauth.selectors import key_rotation_active, key_rotation_get


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


@admin.register(KeyRotation)
class KeyRotationAdmin(ReadOnlyModelAdmin):
    """Runs of key rotation; "Re-encrypt all secrets" starts one (after a confirmation) for a
    Celery worker, and each run's page follows it without blocking."""

    list_display = (
        "__str__",
        "status",
        "progress",
        "source",
        "requested_by_label",
        "key_fingerprint",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "source")
    change_list_template = "admin/oauth/keyrotation/change_list.html"

    @admin.display(description="Secrets re-encrypted")
    def progress(self, rotation: KeyRotation) -> str:
        return f"{rotation.rows_shown} of {rotation.rows_total}"

    def has_rotate_permission(self, request) -> bool:
        return request.user.has_perm("oauth.rotate_keys")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("start/", wrap(self.start_view), name="oauth_keyrotation_start"),
            path(
                "<path:object_id>/progress/",
                wrap(self.progress_view),
                name="oauth_keyrotation_progress",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def changelist_view(self, request, extra_context=None):
        extra = {"can_rotate": self.has_rotate_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The run's page: its progress, polled while it goes on, and what it did."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rotation = key_rotation_get(rotation_id=object_id)
        context = self._context(request, title=str(rotation), rotation=rotation)
        return render(request, "admin/oauth/keyrotation/detail.html", context)

    @method_decorator(require_GET)
    def progress_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rotation = key_rotation_get(rotation_id=object_id)
        # Polls carry ?was=running until they see the end: that answer alone announces it.
        announce = rotation.finished and request.GET.get("was") == "running"
        context = {"rotation": rotation, "announce": announce}
        # Rendered without the request: the fragment needs nothing from the context processors,
        # which would ask the database for the navigation every second.
        return HttpResponse(render_to_string("admin/oauth/keyrotation/_progress.html", context))

    @method_decorator(require_http_methods(["GET", "POST"]))
    def start_view(self, request):
        """GET: what will happen, to confirm. POST: queue the run and go to its page."""
        if not self.has_rotate_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            try:
                rotation = key_rotation_start(actor=Actor.from_request(request))
            except KeyRotationRefused as refusal:
                self.message_user(request, refusal.message, level=messages.ERROR)
                return redirect("admin:oauth_keyrotation_changelist")
            return redirect("admin:oauth_keyrotation_change", rotation.pk)
        kinds = secrets_count()
        context = self._context(
            request,
            title="Re-encrypt all secrets",
            kinds=kinds,
            total=sum(count for _, count in kinds),
            fingerprint=key_fingerprint(),
            active=key_rotation_active(),
        )
        return render(request, "admin/oauth/keyrotation/start.html", context)
