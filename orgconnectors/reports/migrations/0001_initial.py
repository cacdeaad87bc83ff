import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """ExportJob and AuditDigest, moved from the audit app (audit/0009) with their tables as they
    are: this records them in Django's state and changes nothing in the database."""

    initial = True

    dependencies = [
        ("audit", "0009_export_jobs_and_digests_move_to_reports"),
        ("organizations", "0006_operator_plans_and_retention_grace"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ExportJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "source",
                            models.CharField(
                                choices=[("audit", "Audit trail"), ("usage", "Usage events")],
                                max_length=8,
                            ),
                        ),
                        (
                            "format",
                            models.CharField(
                                choices=[("csv", "CSV"), ("jsonl", "JSON Lines")], max_length=8
                            ),
                        ),
                        ("filters", models.JSONField(blank=True, default=dict)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "Waiting for a worker"),
                                    ("running", "Writing"),
                                    ("done", "Ready"),
                                    ("failed", "Failed"),
                                    ("expired", "Expired"),
                                ],
                                default="queued",
                                max_length=8,
                            ),
                        ),
                        ("rows_expected", models.BigIntegerField(default=0)),
                        ("rows_written", models.BigIntegerField(default=0)),
                        ("file_name", models.CharField(blank=True, max_length=200)),
                        ("error", models.CharField(blank=True, max_length=300)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="export_jobs",
                                to="organizations.organization",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "audit_exportjob",
                        "indexes": [
                            models.Index(fields=["status", "expires_at"], name="export_expiry")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="AuditDigest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("from_seq", models.BigIntegerField()),
                        ("seq", models.BigIntegerField()),
                        ("last_event_id", models.BigIntegerField()),
                        ("head_hash", models.CharField(max_length=64)),
                        ("leaves", models.BinaryField()),
                        ("signed_at", models.DateTimeField()),
                        ("key_id", models.CharField(max_length=16)),
                        ("signature", models.CharField(max_length=100)),
                        ("requested_by", models.CharField(max_length=254)),
                        (
                            "organization",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="audit_digests",
                                to="organizations.organization",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "audit_auditdigest",
                        "indexes": [
                            models.Index(
                                fields=["organization", "-seq"], name="audit_digest_org_seq"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
