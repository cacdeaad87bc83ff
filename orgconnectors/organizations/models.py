from django.conf import settings
from django.db import models


class Plan(models.Model):
    """A plan's limits are data an operator edits in the admin, not constants in code."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        ORGANIZATION = "organization", "Organization"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    max_enabled_connections = models.PositiveIntegerField(
        help_text="How many connections one member may have enabled at once."
    )
    owners_register_connectors = models.BooleanField(
        default=False, help_text="Owners may register organization-wide connectors."
    )
    max_custom_connectors = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="For individual plans: how many custom connectors the account may add "
        "(empty = no limit, 0 = none).",
    )
    allows_limit_override = models.BooleanField(
        default=False, help_text="Organizations on this plan may carry their own connection limit."
    )
    audit_retention_days = models.PositiveIntegerField(
        default=90,
        help_text="Days audit and usage events are kept; older ones are purged every night. "
        "Plans that allow overrides take the organization's own value instead.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="organizations")
    connection_limit_override = models.PositiveIntegerField(
        null=True, blank=True, help_text="Enterprise only: replaces the plan's connection limit."
    )
    # When set, owners confirm at each connector registration that MCP connector traffic is not
    # covered by zero data retention, and members are told so with their API configuration.
    requires_zero_data_retention = models.BooleanField(default=False)
    audit_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Enterprise only: replaces the plan's audit retention."
    )
    # Owners and auditors without an activated authenticator are sent to set one up before they
    # reach the organization's pages or its API.
    require_mfa_for_owners_and_auditors = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def max_enabled_connections(self) -> int:
        if self.plan.allows_limit_override and self.connection_limit_override is not None:
            return self.connection_limit_override
        return self.plan.max_enabled_connections

    @property
    def audit_retention(self) -> int:
        """Days its audit and usage events are kept."""
        if self.plan.allows_limit_override and self.audit_retention_days is not None:
            return self.audit_retention_days
        return self.plan.audit_retention_days


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        AUDITOR = "auditor", "Auditor"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]
        ordering = ["organization__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER

    @property
    def can_connect(self) -> bool:
        # Owners can do all a member can; auditors only read.
        return self.role in (self.Role.OWNER, self.Role.MEMBER)

    @property
    def can_read_audit(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.AUDITOR)


class Invitation(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role.choices)
    # Only a hash of the link's secret is stored, so a database leak does not leak invitations.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"
