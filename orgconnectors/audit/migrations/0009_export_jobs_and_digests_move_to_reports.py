from django.db import migrations


class Migration(migrations.Migration):
    """ExportJob and AuditDigest belong to the reports app now (reports/0001_initial). Their tables
    keep their names, rows and the digests' append-only triggers: only Django's state moves."""

    dependencies = [
        ("audit", "0008_seal_chain_after_commit"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="ExportJob"),
                migrations.DeleteModel(name="AuditDigest"),
            ],
            database_operations=[],
        ),
    ]
