"""What an organization's identity provider provisions: SCIM tokens, the people and the groups
it manages. A SCIM user is the organization's record of a person (kept while deactivated); the
membership is what it grants while active."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from orgconnectors.core.audit_target import AuditTarget


class ScimToken(models.Model):
    """A bearer token an owner creates for the identity provider; only its SHA-256 is stored."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="scim_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def audit_target(self) -> AuditTarget:
        return AuditTarget(type="scim_token", id=self.pk, label=f"{self.name} ({self.prefix}…)")


class ScimUser(models.Model):
    """A person the identity provider provisions in one organization. `document` keeps the SCIM
    attributes as the provider sent them (no password), so what it reads back is what it wrote."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="scim_users"
    )
    # The account, once the provider has sent an email address to find or create it by.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scim_users",
    )
    user_name = models.CharField(max_length=254)
    external_id = models.CharField(max_length=254, blank=True)
    active = models.BooleanField(default=True)
    document = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("user_name"), name="one_scim_user_name_per_org"
            ),
            models.UniqueConstraint(fields=["organization", "user"], name="one_scim_user_per_org"),
        ]

    def __str__(self) -> str:
        return self.user_name

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="scim_user", id=str(self.pk), label=self.user_name, member_user_id=self.user_id
        )


class ScimGroup(models.Model):
    """A group of people, provisioned by the identity provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="scim_groups"
    )
    display_name = models.CharField(max_length=254)
    external_id = models.CharField(max_length=254, blank=True)
    # The role owners map this group to ("" = none): applied to its people on every SCIM change
    # (identity/group_roles.py).
    role = models.CharField(
        max_length=16,
        blank=True,
        choices=[("owner", "Owner"), ("auditor", "Auditor"), ("member", "Member")],
    )
    members = models.ManyToManyField(ScimUser, related_name="groups", blank=True)
    document = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.display_name

    def audit_target(self) -> AuditTarget:
        return AuditTarget(type="scim_group", id=str(self.pk), label=self.display_name)
