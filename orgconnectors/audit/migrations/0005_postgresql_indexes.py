"""Indexes only PostgreSQL has; the reasons and the plans are in docs/audit-indexes.md."""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

# Usage events arrive in time order, so each block of the table covers a narrow time range:
# a BRIN index of a few pages narrows time-range scans across all organizations (the rollup,
# the purge) where a btree would cost as much as the table's hot end on every insert.
USAGE_BRIN = (
    "CREATE INDEX IF NOT EXISTS usage_time_brin ON audit_usageevent "
    "USING brin (created_at) WITH (pages_per_range = 32)"
)
# Search on target names: Django's icontains is UPPER(col::text) LIKE UPPER('%term%'), which
# this trigram index answers without reading every event of the organization.
TARGET_TRGM = (
    "CREATE INDEX IF NOT EXISTS audit_target_trgm ON audit_auditevent "
    "USING gin ((UPPER(target_label::text)) gin_trgm_ops)"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(USAGE_BRIN)
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(TARGET_TRGM)
    except DatabaseError as refused:
        # The extension needs a privilege the migrating role may lack; the search still works,
        # it reads the organization's events instead.
        logger.warning("No trigram index on audit target names (%s); search scans instead.", refused)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS usage_time_brin")
    schema_editor.execute("DROP INDEX IF EXISTS audit_target_trgm")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_append_only_triggers")]

    operations = [migrations.RunPython(create, drop)]
