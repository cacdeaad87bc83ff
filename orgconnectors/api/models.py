from django.conf import settings
from django.db import models

from orgconnectors.core.audit_target import AuditTarget


class ApiToken(models.Model):
    """A personal API token, scoped to one organization and to some of `read`, `connections`
    and `admin`. Only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters, shown in lists so a person can tell tokens apart.
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Every token ends: a leaked one must not work forever.
    expires_at = models.DateTimeField()
    # What the token may do, within what its owner's role allows (see api.scopes).
    scopes = models.JSONField(default=list)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="api_token",
            id=self.pk,
            label=f"{self.name} ({self.prefix}…)",
            member_user_id=self.user_id,
        )
