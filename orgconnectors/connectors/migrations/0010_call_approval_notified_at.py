from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0009_connector_access_groups"),
    ]

    operations = [
        migrations.AddField(
            model_name="callapproval",
            name="notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
