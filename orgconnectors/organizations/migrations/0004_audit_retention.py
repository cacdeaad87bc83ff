from django.db import migrations, models

# Defaults documented in README ("Audit trail and usage logs"); operators change them in the admin.
RETENTION_DAYS = {"free": 30, "pro": 90, "max": 90, "team": 365, "enterprise": 365}


def set_retention(apps, schema_editor):
    Plan = apps.get_model("organizations", "Plan")
    for code, days in RETENTION_DAYS.items():
        Plan.objects.filter(code=code).update(audit_retention_days=days)


class Migration(migrations.Migration):
    dependencies = [("organizations", "0003_requires_zero_data_retention")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="audit_retention_days",
            field=models.PositiveIntegerField(
                default=90,
                help_text="Days audit and usage events are kept; older ones are purged every "
                "night. Plans that allow overrides take the organization's own value instead.",
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="audit_retention_days",
            field=models.PositiveIntegerField(
                blank=True,
                null=True,
                help_text="Enterprise only: replaces the plan's audit retention.",
            ),
        ),
        migrations.RunPython(set_retention, migrations.RunPython.noop),
    ]
