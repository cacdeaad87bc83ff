from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from orgconnectors.core.audit_target import AuditTarget


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
    class MemberAppsReach(models.TextChoices):
        DIRECT = "direct", "Directly (members' apps get the servers' own tokens)"
        GATEWAY = "gateway", "Through the gateway (orgconnectors sees and governs every call)"

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
    # How `messages-api-config` hands out servers: their own URLs with the member's upstream
    # tokens, or the gateway's endpoints with short-lived gateway tokens (docs/gateway.md).
    member_apps_reach = models.CharField(
        max_length=16, choices=MemberAppsReach.choices, default=MemberAppsReach.DIRECT
    )
    # A plan change that shortens the retention leaves the older events under the old one for a
    # grace period, so nobody loses months of trail the night a plan changes.
    audit_retention_grace_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="The longer retention that holds until the date below."
    )
    audit_retention_grace_until = models.DateTimeField(null=True, blank=True)

    # Tool governance (connectors/tool_review.py): what members get when a server's tools change.
    class ChangedTools(models.TextChoices):
        KEEP_APPROVED = "keep_approved", "Keep the approved version until reviewed"
        HOLD = "hold", "Hold the tool until reviewed"

    # Off: a new connector's first complete listing is approved at its first successful check
    # (trust on first use). On: even that listing waits for an owner.
    review_new_connector_tools = models.BooleanField(default=False)
    changed_tools = models.CharField(
        max_length=16, choices=ChangedTools.choices, default=ChangedTools.KEEP_APPROVED
    )
    # New tools the server marks destructive start blocked by the tool policy.
    block_new_destructive_tools = models.BooleanField(default=False)
    # The gateway keeps each tool call's arguments and result (redacted of secrets) for auditors.
    keep_tool_call_bodies = models.BooleanField(default=False)
    # How long a call to a tool that needs approval waits for an approver (the Messages API
    # gives up on a tool call after about 300 s).
    approval_timeout_seconds = models.PositiveIntegerField(default=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def audit_target(self) -> AuditTarget:
        return AuditTarget(type="organization", id=self.pk, label=self.name)

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

    def audit_retention_grace(self, now: datetime | None = None) -> int | None:
        """The longer retention a plan change left in force for older events, while it holds."""
        now = now or timezone.now()
        until, days = self.audit_retention_grace_until, self.audit_retention_grace_days
        if until is None or days is None or until <= now or days <= self.audit_retention:
            return None
        return days

    def audit_retention_in_force(self, now: datetime | None = None) -> int:
        """Days the purge keeps events at `now`: the plan's, or a grace's longer retention."""
        return self.audit_retention_grace(now) or self.audit_retention


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

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="membership", id=self.pk, label=self.user.email, member_user_id=self.user_id
        )

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

    def audit_target(self) -> AuditTarget:
        return AuditTarget(type="invitation", id=self.pk, label=self.email)


class PlanChangeRequest(models.Model):
    """An owner's request to the operator for another plan; only the operator applies it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the operator"
        APPLIED = "applied", "Applied"
        DECLINED = "declined", "Declined"
        REPLACED = "replaced", "Replaced by a newer request"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="plan_change_requests"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    connection_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="The organization's own limit asked for (Enterprise)."
    )
    message = models.TextField(blank=True, max_length=2000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the request still says who asked after the account is gone.
    requested_by_email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organization} → {self.plan} ({self.get_status_display().lower()})"

    def audit_target(self) -> AuditTarget:
        limit = f", {self.connection_limit} per member" if self.connection_limit else ""
        return AuditTarget(type="plan_change_request", id=self.pk, label=f"{self.plan.name}{limit}")


class OperatorToken(models.Model):
    """A bearer token of the deployment's operators for the operator API; belongs to no
    organization. Only a hash is stored; the token is shown once, by create_operator_token."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
