from django.db import migrations

from orgconnectors.audit import append_only


def install(apps, schema_editor):
    model = apps.get_model("audit", "AuditEvent")
    append_only.install(schema_editor, [field.column for field in model._meta.concrete_fields])


def uninstall(apps, schema_editor):
    append_only.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_existing_events")]

    operations = [migrations.RunPython(install, uninstall)]
