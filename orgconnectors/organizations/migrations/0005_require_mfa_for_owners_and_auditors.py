from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("organizations", "0004_audit_retention")]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="require_mfa_for_owners_and_auditors",
            field=models.BooleanField(default=False),
        ),
    ]
