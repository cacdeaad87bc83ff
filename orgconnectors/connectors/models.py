from django.conf import settings
from django.db import models
from django.utils import timezone

from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.encryption.fields import EncryptedTextField


class Connector(models.Model):
    """A remote MCP server registered for an organization."""

    # What key rotation calls these rows in its progress and errors (encryption/rotation.py).
    secrets_label = "connector client secrets"

    class Transport(models.TextChoices):
        AUTO = "auto", "Automatic (Streamable HTTP, then SSE)"
        STREAMABLE_HTTP = "streamable_http", "Streamable HTTP"
        SSE = "sse", "HTTP+SSE (legacy)"

    class Auth(models.TextChoices):
        NONE = "none", "None"
        OAUTH = "oauth", "OAuth 2.1"

    class ToolDefault(models.TextChoices):
        ALLOW = "allow", "Allow every tool unless blocked"
        BLOCK = "block", "Block every tool unless allowed"

    class Status(models.TextChoices):
        UNCHECKED = "unchecked", "Not checked yet"
        HEALTHY = "healthy", "Healthy"
        DEGRADED = "degraded", "Degraded"
        AUTH_REQUIRED = "auth_required", "Needs authorization"
        UNREACHABLE = "unreachable", "Unreachable"
        MISCONFIGURED = "misconfigured", "Misconfigured"
        DOWN = "down", "Down"

    # Statuses in which the server fails its health checks: a request naming it would fail.
    FAILING_STATUSES = frozenset({Status.DOWN, Status.UNREACHABLE, Status.MISCONFIGURED})

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="connectors"
    )
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    transport = models.CharField(max_length=16, choices=Transport.choices, default=Transport.AUTO)
    auth = models.CharField(max_length=8, choices=Auth.choices, default=Auth.NONE)
    # Who may connect: everyone in the organization, or only the people of the chosen groups
    # (an empty choice of groups is nobody). connectors/group_access.py.
    who_may_connect = models.CharField(
        max_length=8,
        choices=[("everyone", "Everyone"), ("groups", "Chosen groups")],
        default="everyone",
    )
    access_groups = models.ManyToManyField(
        "identity.ScimGroup", blank=True, related_name="connectors"
    )
    oauth_client_id = models.CharField(max_length=255, blank=True)
    # MultiFernet ciphertext; never rendered, never sent back.
    oauth_client_secret_encrypted = EncryptedTextField(blank=True)
    tool_default = models.CharField(
        max_length=8, choices=ToolDefault.choices, default=ToolDefault.ALLOW
    )
    directory_slug = models.SlugField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNCHECKED)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    # Tools as last listed by the server, verbatim (connectors/tool_definitions.py):
    # [{name, title, description, inputSchema, outputSchema, annotations, hash}].
    discovered_tools = models.JSONField(default=list, blank=True)
    # tool_definitions.listing_digest of discovered_tools, set with it by the health check:
    # the Messages API configuration keys what it keeps in memory by it ("" before the first).
    discovered_digest = models.CharField(max_length=64, blank=True, default="")
    # The approved listing now in force (its history is in ToolListing), in the same shape;
    # version 0: none approved yet.
    approved_tools = models.JSONField(default=list, blank=True)
    tool_listing_version = models.PositiveIntegerField(default=0)
    # Health checks (orgconnectors.health) own the fields below; a new connector is due at once.
    next_check_at = models.DateTimeField(default=timezone.now, db_index=True)
    check_interval_seconds = models.PositiveIntegerField(default=300)
    consecutive_failures = models.PositiveIntegerField(default=0)
    detected_transport = models.CharField(max_length=16, choices=Transport.choices, blank=True)
    protocol_version = models.CharField(max_length=32, blank=True)
    server_name = models.CharField(max_length=200, blank=True)
    server_version = models.CharField(max_length=100, blank=True)
    capabilities = models.JSONField(default=dict, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    down_since = models.DateTimeField(null=True, blank=True)
    # An owner's kill switch: while set, the gateway refuses every member's calls (and ends those
    # in flight at their next access check); connectors/pauses.py.
    paused_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "url"], name="one_connector_per_url")
        ]

    def __str__(self) -> str:
        return self.name

    def audit_target(self) -> AuditTarget:
        return AuditTarget(type="connector", id=self.pk, label=self.name, connector_id=self.pk)

    @property
    def failing(self) -> bool:
        return self.status in self.FAILING_STATUSES

    @property
    def has_client_secret(self) -> bool:
        return bool(self.oauth_client_secret_encrypted)


class ToolOverride(models.Model):
    """An owner's decision for one tool, overriding the connector's default."""

    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, related_name="tool_overrides"
    )
    tool_name = models.CharField(max_length=128)
    enabled = models.BooleanField()

    class Meta:
        ordering = ["tool_name"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "tool_name"], name="one_override_per_tool")
        ]

    def __str__(self) -> str:
        return f"{self.tool_name}: {'allowed' if self.enabled else 'blocked'}"


class Connection(models.Model):
    """A member's own use of an organization's connector."""

    class State(models.TextChoices):
        ENABLED = "enabled", "Connected"
        DISABLED = "disabled", "Disconnected"
        NEEDS_AUTHORIZATION = "needs_authorization", "Needs authorization"
        SUSPENDED = "suspended", "Suspended by a plan change"

    # These count against the plan's limit: the member asked for them and has not let go.
    IN_USE = (State.ENABLED, State.NEEDS_AUTHORIZATION)

    membership = models.ForeignKey(
        "organizations.Membership", on_delete=models.CASCADE, related_name="connections"
    )
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="connections")
    state = models.CharField(max_length=24, choices=State.choices, default=State.DISABLED)
    enabled_at = models.DateTimeField(null=True, blank=True)
    state_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "connector"], name="one_connection_per_member"
            )
        ]
        indexes = [models.Index(fields=["membership", "state"], name="connection_member_state")]

    def __str__(self) -> str:
        return f"{self.membership.user} · {self.connector} ({self.state})"

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="connection",
            id=self.pk,
            label=f"{self.membership.user.email} · {self.connector.name}",
            connector_id=self.connector_id,
            member_user_id=self.membership.user_id,
        )

    @property
    def in_use(self) -> bool:
        return self.state in self.IN_USE


class ToolListing(models.Model):
    """One version of a connector's approved tool listing: the definitions as approved."""

    class Reason(models.TextChoices):
        FIRST_USE = "first_use", "Trusted on first use"
        APPROVED = "approved", "Approved by an owner"
        BLOCKED = "blocked", "Reviewed and blocked by an owner"

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="tool_listings")
    version = models.PositiveIntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField()
    # The names this version approved (the rest are carried over from the version before).
    approved_names = models.JSONField(default=list)
    tools = models.JSONField(default=list)

    class Meta:
        ordering = ["connector", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "version"], name="one_listing_version")
        ]

    def __str__(self) -> str:
        return f"{self.connector_id} v{self.version}"


class ToolChange(models.Model):
    """A difference between a connector's approved listing and what its server lists, found by a
    health check: recorded once per tool and definition, until an owner reviews it."""

    class Kind(models.TextChoices):
        NEW = "new", "New tool"
        CHANGED = "changed", "Changed tool"
        REMOVED = "removed", "Removed tool"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        BLOCKED = "blocked", "Blocked"
        SUPERSEDED = "superseded", "Changed again before review"
        REVERTED = "reverted", "Back to the approved definition"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="tool_changes"
    )
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="tool_changes")
    tool_name = models.CharField(max_length=128)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    detected_at = models.DateTimeField()
    # The approved definition (none for a new tool) and the server's (none for a removed one).
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    before_hash = models.CharField(max_length=80, blank=True)
    after_hash = models.CharField(max_length=80, blank=True)
    diff = models.JSONField(default=dict, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # When the owners' email about it went out: they are told once, however often it is queued.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-detected_at"], name="toolchange_org_time"),
            models.Index(fields=["connector", "state"], name="toolchange_connector_state"),
        ]
        constraints = [
            # Told once: one open change per tool of a connector.
            models.UniqueConstraint(
                fields=["connector", "tool_name"],
                condition=models.Q(state="pending"),
                name="one_pending_change_per_tool",
            )
        ]

    def __str__(self) -> str:
        return f"{self.connector_id} {self.tool_name}: {self.kind} ({self.state})"

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="tool_change", id=self.pk, label=self.tool_name, connector_id=self.connector_id
        )


class Quota(models.Model):
    """A limit on the tool calls each member may make through the gateway, per minute and per
    day (a moving window), on the whole organization (no connector), on one connector (no
    tool) or on one tool of a connector. Empty: no limit of that period. The organization's
    row, when there is one, replaces its plan's default (connectors/quotas.py)."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="quotas"
    )
    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.CASCADE, related_name="quotas"
    )
    tool_name = models.CharField(max_length=128, blank=True)
    per_minute = models.PositiveIntegerField(null=True, blank=True)
    per_day = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["connector_id", "tool_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "connector", "tool_name"],
                name="one_quota_per_scope",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(connector__isnull=False) | models.Q(tool_name=""),
                name="quota_tool_needs_connector",
            ),
        ]

    def __str__(self) -> str:
        return self.scope_label

    @property
    def scope_label(self) -> str:
        if self.connector_id is None:
            return "the organization"
        if self.tool_name:
            return f"the tool {self.tool_name!r} of {self.connector.name}"
        return str(self.connector.name)

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="quota", id=self.pk, label=self.scope_label, connector_id=self.connector_id
        )


class GatewayHold(models.Model):
    """An owner ended a member's gateway session: until `until`, the gateway refuses that
    member's calls on the connector (or, without one, on every connector). See
    connectors/pauses.py."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    membership = models.ForeignKey(
        "organizations.Membership", on_delete=models.CASCADE, related_name="gateway_holds"
    )
    connector = models.ForeignKey(
        Connector, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["membership", "until"], name="gateway_hold_member_until")]

    def __str__(self) -> str:
        return f"Gateway hold until {self.until:%Y-%m-%d %H:%M}"

    def audit_target(self) -> AuditTarget:
        label = self.membership.user.email
        if self.connector_id is not None:
            label += f" · {self.connector.name}"
        return AuditTarget(
            type="gateway_session",
            id=self.pk,
            label=label,
            connector_id=self.connector_id,
            member_user_id=self.membership.user_id,
        )


class ApprovalRequirement(models.Model):
    """An owner's decision that calls to one tool of a connector wait for an approver
    (connectors/call_approvals.py): with ToolOverride's allowed and blocked, the third state."""

    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, related_name="approval_requirements"
    )
    tool_name = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "tool_name"], name="one_approval_requirement_per_tool"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tool_name}: needs approval"

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="connector",
            id=self.connector_id,
            label=f"{self.connector.name} · {self.tool_name}",
            connector_id=self.connector_id,
        )


class CallApproval(models.Model):
    """One call waiting for (or past) an approver's decision."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for an approver"
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Denied"
        TIMED_OUT = "timed_out", "No answer in time"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="+")
    membership = models.ForeignKey(
        "organizations.Membership", on_delete=models.CASCADE, related_name="+"
    )
    tool_name = models.CharField(max_length=128)
    client = models.CharField(max_length=100, blank=True)
    # Redacted of secrets when written (audit/body_redaction.py).
    arguments = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the approvers were emailed about it (once per call).
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "state"], name="call_approval_org_state")]

    def __str__(self) -> str:
        return f"{self.tool_name} ({self.state})"

    def audit_target(self) -> AuditTarget:
        return AuditTarget(
            type="call_approval",
            id=self.pk,
            label=f"{self.connector.name} · {self.tool_name}",
            connector_id=self.connector_id,
            member_user_id=self.membership.user_id,
        )
