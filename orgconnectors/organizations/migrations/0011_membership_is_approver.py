from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0010_call_approvals"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="is_approver",
            field=models.BooleanField(default=False),
        ),
    ]
