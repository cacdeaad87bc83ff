"""What the reading side of the audit trail keeps: exports prepared by a worker, and the signed
digests of each organization's chain. The events themselves are the audit app's."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportJob(models.Model):
    """An export too large to stream in one request, written to a file by a Celery worker."""

    class Source(models.TextChoices):
        AUDIT = "audit", "Audit trail"
        USAGE = "usage", "Usage events"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Writing"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="export_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    format = models.CharField(max_length=8, choices=Format.choices)
    # The filters as the list's query string had them, so the file matches what was on screen.
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_expected = models.BigIntegerField(default=0)
    rows_written = models.BigIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Made by the audit app before the reading side became its own app; the table kept its name.
        db_table = "audit_exportjob"
        indexes = [models.Index(fields=["status", "expires_at"], name="export_expiry")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} export {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_expected:
            return 0
        return min(99, int(100 * self.rows_written / self.rows_expected))


class AuditDigest(models.Model):
    """A signed statement of where an organization's chain stood at `signed_at`, so a trail
    rewritten by someone who can write the database no longer matches what was signed.

    The key is not in the database (audit/signing.py). `leaves` holds the first 8 bytes of the
    hash of each event from `from_seq` to `seq`: the head hash proves the trail, the leaves say
    which event changed. Append-only like the events (triggers in audit's migration 0007,
    audit/append_only.py).
    """

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="audit_digests",
        db_index=False,
    )
    # The events covered: seq from_seq..seq; the chain's head then was last_event_id/head_hash.
    from_seq = models.BigIntegerField()
    seq = models.BigIntegerField()
    last_event_id = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    leaves = models.BinaryField()
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)
    # Who asked: "schedule", or the person or command that asked for it on demand.
    requested_by = models.CharField(max_length=254)

    class Meta:
        db_table = "audit_auditdigest"  # made by the audit app, like audit_exportjob
        indexes = [models.Index(fields=["organization", "-seq"], name="audit_digest_org_seq")]

    def __str__(self) -> str:
        return f"digest of {self.organization_id} through {self.seq}"
