from django.conf import settings
from django.db import models

from orgconnectors.health.outcomes import OUTCOME_LABELS, UP, Outcome

OUTCOME_CHOICES = [(outcome.value, label) for outcome, label in OUTCOME_LABELS.items()]


class HealthRun(models.Model):
    """Checks a person asked for ("Check now", "Check all"), so the page can show progress."""

    class Kind(models.TextChoices):
        ONE = "one", "Check now"
        ALL = "all", "Check all"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="health_runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    total = models.PositiveIntegerField()
    done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="healthrun_org_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.done}/{self.total})"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class HealthCheck(models.Model):
    """One check of one connector; kept for a week, then folded into a daily rollup."""

    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.CASCADE, related_name="health_checks"
    )
    # Denormalised so organization-wide reads need no join through connectors.
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(
        HealthRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="checks"
    )
    checked_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=OUTCOME_CHOICES)
    error = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    transport = models.CharField(max_length=16, blank=True)
    protocol_version = models.CharField(max_length=32, blank=True)
    server_name = models.CharField(max_length=200, blank=True)
    server_version = models.CharField(max_length=100, blank=True)
    tool_count = models.PositiveIntegerField(null=True, blank=True)
    notes = models.JSONField(default=list, blank=True)
    # Protected resource metadata of an auth_required server, and the scope its 401 asked for.
    oauth = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["connector", "-checked_at"], name="healthcheck_connector_time"),
            models.Index(fields=["checked_at"], name="healthcheck_time"),
        ]
        constraints = [
            # A run checks each of its connectors once, however often its task is delivered.
            models.UniqueConstraint(fields=["run", "connector"], name="one_check_per_run_connector")
        ]

    def __str__(self) -> str:
        return f"{self.connector_id} {self.outcome} at {self.checked_at:%Y-%m-%d %H:%M}"

    @property
    def is_up(self) -> bool:
        return Outcome(self.outcome) in UP


class HealthDailyRollup(models.Model):
    """A connector's checks of one UTC day, once the individual checks are gone."""

    connector = models.ForeignKey(
        "connectors.Connector", on_delete=models.CASCADE, related_name="health_days"
    )
    day = models.DateField()
    checks = models.PositiveIntegerField()
    up_checks = models.PositiveIntegerField()
    p50_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    p95_latency_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["connector", "day"], name="one_rollup_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.connector_id} {self.day}: {self.uptime_percent:.2f}%"

    @property
    def uptime_percent(self) -> float:
        return 100.0 * self.up_checks / self.checks if self.checks else 0.0
