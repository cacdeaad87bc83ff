"""The database refuses to change or remove audit events; only the retention purge may remove them.

PostgreSQL: one row trigger refuses UPDATE and DELETE. A DELETE passes only while the purge's
transaction has set `orgconnectors.audit_purge = 'on'` (SET LOCAL, gone at commit or rollback).
An UPDATE passes only when it sets actor_id to NULL and changes nothing else: what Django does
(on_delete=SET_NULL) when the acting user is deleted; actor_label, which is hashed, still says
who it was. Or when it seals the event: seq, prev_hash and hash, all three still NULL, set once
(audit/chain.py), nothing else changed.

SQLite (the embedded default) has no session settings: the purge flips the one row of
audit_purge_permit inside its own transaction instead, and flips it back before committing.
SQLite remakes a table for most schema changes, dropping its triggers: a migration that alters
audit_auditevent must call install() again afterwards.

These guard against the application and against mistakes, not against a database superuser,
who can disable triggers: the hash chain is what shows such an edit (verify_audit_chain).
TRUNCATE fires no row trigger; the application never truncates, and the test suite does.
"""

from contextlib import contextmanager

from django.db import connection as default_connection

TABLE = "audit_auditevent"
SETTING = "orgconnectors.audit_purge"
REFUSED = "audit events are append-only"

_PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF current_setting('{SETTING}', true) = 'on' THEN
      RETURN OLD;
    END IF;
  ELSIF NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
        AND to_jsonb(NEW) - 'actor_id' = to_jsonb(OLD) - 'actor_id' THEN
    RETURN NEW;
  ELSIF OLD.hash IS NULL AND OLD.prev_hash IS NULL AND OLD.seq IS NULL
        AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.seq IS NOT NULL
        AND to_jsonb(NEW) - '{{seq,prev_hash,hash}}'::text[]
            = to_jsonb(OLD) - '{{seq,prev_hash,hash}}'::text[] THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '{REFUSED}: % of event % refused', TG_OP, OLD.id
    USING ERRCODE = 'restrict_violation',
          HINT = 'Events older than the retention are removed by manage.py purge_audit.';
END
$$;
DROP TRIGGER IF EXISTS audit_event_append_only ON {TABLE};
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON {TABLE}
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""

_PG_UNINSTALL = f"""
DROP TRIGGER IF EXISTS audit_event_append_only ON {TABLE};
DROP FUNCTION IF EXISTS audit_event_append_only();
"""


def _sqlite_install(columns: list[str]) -> list[str]:
    unchanged = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in columns if c != "actor_id")
    chain = ("seq", "prev_hash", "hash")
    sealed_only = " AND ".join(
        [f'NEW."{c}" IS OLD."{c}"' for c in columns if c not in chain]
        + [f'OLD."{c}" IS NULL AND NEW."{c}" IS NOT NULL' for c in chain if c in columns]
    )
    return [
        "CREATE TABLE IF NOT EXISTS audit_purge_permit ("
        "id INTEGER PRIMARY KEY CHECK (id = 1), active INTEGER NOT NULL DEFAULT 0)",
        "INSERT OR IGNORE INTO audit_purge_permit (id, active) VALUES (1, 0)",
        "DROP TRIGGER IF EXISTS audit_event_no_delete",
        f"CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {TABLE} "
        "WHEN (SELECT active FROM audit_purge_permit WHERE id = 1) IS NOT 1 "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE refused'); END",
        "DROP TRIGGER IF EXISTS audit_event_no_update",
        f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {TABLE} "
        f"WHEN NOT ((NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL AND {unchanged}) "
        f"OR ({sealed_only})) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: UPDATE refused'); END",
    ]


def install(schema_editor, columns: list[str]) -> None:
    """Create (or re-create) the triggers; `columns` are the table's columns, for SQLite."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_INSTALL, params=None)
    elif vendor == "sqlite":
        for statement in _sqlite_install(columns):
            schema_editor.execute(statement)


def uninstall(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_UNINSTALL)
    elif vendor == "sqlite":
        for name in ("audit_event_no_delete", "audit_event_no_update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute("DROP TABLE IF EXISTS audit_purge_permit")


# Digests (AuditDigest) have no purge and no user column: every UPDATE and DELETE is refused.
DIGEST_TABLE = "audit_auditdigest"
DIGEST_REFUSED = "audit digests are append-only"

_PG_DIGEST_INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_digest_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '{DIGEST_REFUSED}: % of digest % refused', TG_OP, OLD.id
    USING ERRCODE = 'restrict_violation';
END
$$;
DROP TRIGGER IF EXISTS audit_digest_append_only ON {DIGEST_TABLE};
CREATE TRIGGER audit_digest_append_only BEFORE UPDATE OR DELETE ON {DIGEST_TABLE}
  FOR EACH ROW EXECUTE FUNCTION audit_digest_append_only();
"""

_PG_DIGEST_UNINSTALL = f"""
DROP TRIGGER IF EXISTS audit_digest_append_only ON {DIGEST_TABLE};
DROP FUNCTION IF EXISTS audit_digest_append_only();
"""


def install_digest_guard(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_DIGEST_INSTALL, params=None)
    elif vendor == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            name = f"audit_digest_no_{operation.lower()}"
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {DIGEST_TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{DIGEST_REFUSED}: {operation} refused'); END"
            )


def uninstall_digest_guard(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_PG_DIGEST_UNINSTALL)
    elif vendor == "sqlite":
        for name in ("audit_digest_no_update", "audit_digest_no_delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


@contextmanager
def purge_permitted(connection=default_connection):
    """Inside the caller's transaction: deleting audit events is allowed until the block ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("the purge permit only holds inside a transaction")
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(f"SET LOCAL {SETTING} = 'on'")
        elif vendor == "sqlite":
            cursor.execute("UPDATE audit_purge_permit SET active = 1 WHERE id = 1")
    # On an error the caller's transaction (or savepoint) rolls back, taking the permit along.
    yield
    # Not left on for the rest of a longer transaction (a caller's, or a test's).
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(f"SET LOCAL {SETTING} = 'off'")
        elif vendor == "sqlite":
            cursor.execute("UPDATE audit_purge_permit SET active = 0 WHERE id = 1")
