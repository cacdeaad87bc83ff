from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0008_call_approvals"),
    ]

    operations = [
        migrations.AddField(
            model_name="callapproval",
            name="notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
