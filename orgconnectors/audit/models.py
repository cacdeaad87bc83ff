from django.conf import settings
from django.db import models
from django.utils import timezone

from orgconnectors.audit.actions import AuditOutcome, audit_action_label


class AuditEvent(models.Model):
    """One change in an organization, written in the same transaction as the change itself.

    Append-only: database triggers (migrations 0004, 0008) refuse UPDATE and DELETE, except the
    retention purge, the sealing (seq, prev_hash and hash set once, while still NULL) and the
    one update Django makes when a user is deleted (actor set to NULL; actor_label keeps who
    it was). Each event carries the hash of the organization's previous
    event, so an edit made with the triggers switched off shows up in `verify_audit_chain`.
    """

    # Each action's outcome is registered with it (audit/actions.py).
    Outcome = AuditOutcome

    # Every index below starts with the organization; one on it alone would only cost writes.
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="audit_events",
        db_index=False,
    )
    # The only column the triggers let change, and only to NULL (the user was deleted); it is
    # not part of the hash for that reason.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the trail still reads correctly after the user or target is gone.
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    # Plain ids rather than foreign keys: removing a connector or a user must not touch the
    # trail (a cascade would be a DELETE, SET_NULL an UPDATE, and the triggers refuse both).
    connector_ref = models.BigIntegerField(
        null=True, blank=True, help_text="The connector the event concerns."
    )
    member_ref = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The user whose membership, connection or token the event concerns.",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    # Set by audit_record before hashing (auto_now_add would overwrite it after).
    created_at = models.DateTimeField(default=timezone.now)
    # The event's position in its organization's chain (1, 2, 3…): a gap is a removed event,
    # and two positions a date range apart say how many events it holds without counting.
    # The three are NULL until the sealer links the event, right after its transaction
    # commits (audit/chain.py): writers never wait for each other on the chain.
    seq = models.BigIntegerField(null=True, blank=True, default=None)
    prev_hash = models.CharField(max_length=64, null=True, blank=True, default=None)
    hash = models.CharField(max_length=64, null=True, blank=True, default=None)

    class Meta:
        # Why each index exists, with the plans: docs/audit-indexes.md.
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_org_time"),
            models.Index(
                fields=["organization", "action", "-created_at", "-id"], name="audit_org_action"
            ),
            models.Index(fields=["organization", "actor", "-created_at"], name="audit_org_actor"),
            models.Index(
                fields=["organization", "actor_label", "-created_at", "-id"],
                name="audit_org_actor_label",
            ),
            models.Index(
                fields=["organization", "connector_ref", "-created_at", "-id"],
                name="audit_org_connector",
            ),
            models.Index(
                fields=["organization", "member_ref", "-created_at", "-id"],
                name="audit_org_member",
            ),
            models.Index(
                fields=["organization", "-created_at", "-id"],
                name="audit_org_not_success",
                condition=~models.Q(outcome="success"),
            ),
            models.Index(fields=["organization", "id"], name="audit_org_chain"),
            # What the sealer still has to link: small, as events are sealed right after commit.
            models.Index(
                fields=["organization", "id"],
                name="audit_org_unsealed",
                condition=models.Q(hash__isnull=True),
            ),
        ]
        constraints = [
            # The chain's order, walked by verification, digests and the purge; unique, so
            # the chain cannot fork (unsealed events, seq NULL, are distinct).
            models.UniqueConstraint(fields=["organization", "seq"], name="audit_org_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_label}"

    @property
    def action_label(self) -> str:
        return audit_action_label(self.action)


class AuditChainHead(models.Model):
    """The end of an organization's sealed chain. The sealer locks this row for the few
    milliseconds it links new events, so two sealers never link to the same predecessor;
    writers never lock it. The purge records here where the remaining chain starts."""

    organization = models.OneToOneField(
        "organizations.Organization",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="audit_chain_head",
    )
    last_event_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64, blank=True)
    # Events appended so far (not reduced by purges): an upper bound for export sizes.
    appended = models.BigIntegerField(default=0)
    # The hash the oldest remaining event links to, once older events were purged.
    purged_through_hash = models.CharField(max_length=64, blank=True)
    purged_through_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"chain of {self.organization_id} at {self.last_event_id}"


class UsageEvent(models.Model):
    """Something a member or a connector did that costs or shows use: the usage logs.

    Written once, never changed, read by time ranges: the references are plain ids without
    database constraints, so writes take no lock on the rows they name, nothing cascades into
    millions of rows, and the table can be partitioned by created_at without changes here.
    """

    class Kind(models.TextChoices):
        CONFIGURATION = "configuration", "Configuration handed out"
        AUTHORIZATION = "authorization", "Authorized"
        TOKEN_REFRESH = "token_refresh", "Token refreshed"
        REFRESH_FAILED = "refresh_failed", "Token refresh failed"
        REVOCATION = "revocation", "Tokens revoked"
        HEALTH = "health", "Health changed"
        TOOL_CALL = "tool_call", "Tool called through the gateway"

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    connector = models.ForeignKey(
        "connectors.Connector",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    api_token = models.ForeignKey(
        "api.ApiToken",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        # Plus a BRIN index on created_at on PostgreSQL (migration 0005): docs/audit-indexes.md.
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="usage_org_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} in {self.organization_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ToolCallBody(models.Model):
    """The arguments and result of one tool call through the gateway, kept only where the
    organization opts in, with secrets redacted (audit/body_redaction.py). Auditors read them;
    the usage retention purges them with the usage events. `call_id` is the call's usage
    event's `details["call_id"]`."""

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    call_id = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    tool = models.CharField(max_length=128)
    request = models.JSONField(default=dict)
    response = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="toolbody_org_time")]

    def __str__(self) -> str:
        return f"{self.tool} call {self.call_id}"


class UsageDay(models.Model):
    """Usage events counted per organization, UTC day, kind and one dimension (a connector or a
    member), so the usage page reads days × connectors rows instead of every event."""

    class Dimension(models.TextChoices):
        CONNECTOR = "connector", "Connector"
        MEMBER = "member", "Member"

    organization_id = models.BigIntegerField()
    day = models.DateField()
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    # The connector's or the user's id; 0 when the event named none.
    key = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=UsageEvent.Kind.choices)
    count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "dimension", "day", "key", "kind"],
                name="one_usage_day_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.day} {self.dimension} {self.key}: {self.count}"


class UsageRollupState(models.Model):
    """One row: usage events created before `rolled_through` are counted in UsageDay."""

    rolled_through = models.DateTimeField()

    def __str__(self) -> str:
        return f"rolled through {self.rolled_through:%Y-%m-%d %H:%M:%S}"
