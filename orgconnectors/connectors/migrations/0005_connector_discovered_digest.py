from django.db import migrations, models

from orgconnectors.connectors.tool_definitions import listing_digest, stored_hash


def digests_recorded(apps, schema_editor):
    Connector = apps.get_model("connectors", "Connector")
    for connector in Connector.objects.exclude(discovered_tools=[]).only("id", "discovered_tools"):
        hashed = [
            {"name": tool.get("name", ""), "hash": stored_hash(tool)}
            for tool in connector.discovered_tools or []
            if isinstance(tool, dict)
        ]
        Connector.objects.filter(pk=connector.pk).update(discovered_digest=listing_digest(hashed))


class Migration(migrations.Migration):
    dependencies = [("connectors", "0004_tool_governance")]

    operations = [
        migrations.AddField(
            model_name="connector",
            name="discovered_digest",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(digests_recorded, migrations.RunPython.noop),
    ]
