"""Fill the new columns of events written before the chain existed, then chain them.

Runs before 0004 creates the triggers that refuse updates. Subjects and outcomes are derived
the way audit_record derives them; hashes with the same function verify_audit_chain uses.
"""

from django.db import migrations

from orgconnectors.audit.chain import GENESIS, HASHED_FIELDS, event_hash


def _outcome(action: str) -> str:
    if action.endswith("_failed"):
        return "failure"
    if action.endswith(("_refused", "_denied")):
        return "refused"
    return "success"


def chain_existing(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    Connection = apps.get_model("connectors", "Connection")
    Membership = apps.get_model("organizations", "Membership")
    ApiToken = apps.get_model("api", "ApiToken")
    connections = {
        str(pk): (connector_id, user_id)
        for pk, connector_id, user_id in Connection.objects.values_list(
            "pk", "connector_id", "membership__user_id"
        )
    }
    memberships = {str(pk): user_id for pk, user_id in Membership.objects.values_list("pk", "user_id")}
    tokens = {str(pk): user_id for pk, user_id in ApiToken.objects.values_list("pk", "user_id")}
    organization_ids = (
        AuditEvent.objects.order_by().values_list("organization_id", flat=True).distinct()
    )
    for organization_id in list(organization_ids):
        prev, last, count = GENESIS, None, 0
        for event in AuditEvent.objects.filter(organization_id=organization_id).order_by("id"):
            if event.target_type == "connector" and event.target_id.isdigit():
                event.connector_ref = int(event.target_id)
            elif event.target_type == "connection":
                event.connector_ref, event.member_ref = connections.get(
                    event.target_id, (None, None)
                )
            elif event.target_type == "membership":
                event.member_ref = memberships.get(event.target_id)
            elif event.target_type == "api_token":
                event.member_ref = tokens.get(event.target_id)
            event.outcome = _outcome(event.action)
            event.prev_hash = prev
            event.seq = count + 1
            event.hash = event_hash({f: getattr(event, f) for f in HASHED_FIELDS}, prev)
            event.save(
                update_fields=["connector_ref", "member_ref", "outcome", "seq", "prev_hash", "hash"]
            )
            prev, last, count = event.hash, event.pk, count + 1
        AuditChainHead.objects.update_or_create(
            organization_id=organization_id,
            defaults={"last_event_id": last, "last_hash": prev, "appended": count},
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_usage_chain_exports")]

    operations = [migrations.RunPython(chain_existing, migrations.RunPython.noop)]
