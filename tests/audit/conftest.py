import pytest
from django.db import connection, transaction

from orgconnectors.audit.chain import chain_seal
from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.ORGCONNECTORS_EXPORT_DIR = tmp_path / "exports"
    return settings.ORGCONNECTORS_EXPORT_DIR


@pytest.fixture
def write_event(org):
    """write_event(action=..., organization=..., target=..., changes=...) records one event as a
    service would."""

    def write(
        action="connector.updated",
        *,
        organization=None,
        by="owner@acme.test",
        target=AuditTarget(type="connector"),
        changes=None,
    ):
        with transaction.atomic():
            event = audit_record(
                organization=organization or org,
                actor=Actor.system(by),
                action=action,
                target=target,
                changes=changes,
            )
        # The test's own transaction never commits, so the sealer a commit runs is run here.
        chain_seal(organization_id=event.organization_id)
        event.refresh_from_db()
        return event

    return write


@pytest.fixture
def triggers_off():
    """The append-only triggers switched off for the rest of the test (its transaction rolls
    back, switching them on again): what a database owner could do to edit the trail."""

    def switch_off():
        with connection.cursor() as cursor:
            # Foreign keys are checked at commit; ALTER TABLE wants those checks done first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")

    return switch_off


def raw(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
