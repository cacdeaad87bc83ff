"""Whether the gateway keeps each tool call's arguments and result for the organization's
auditors. Off by default: tool calls can carry anything, and keeping them is the owners' choice,
audited like every setting. Who may call is the caller's to check (owners)."""

from django.db import transaction

from orgconnectors.audit.services import audit_record
from orgconnectors.core.actor import Actor
from orgconnectors.core.transactions import retry_on_conflict
from orgconnectors.organizations.models import Organization


@retry_on_conflict
def tool_call_bodies_setting_update(
    *, organization: Organization, actor: Actor, keep: bool
) -> Organization:
    with transaction.atomic():
        organization = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        if organization.keep_tool_call_bodies == keep:
            return organization
        before = organization.keep_tool_call_bodies
        organization.keep_tool_call_bodies = keep
        organization.save(update_fields=["keep_tool_call_bodies"])
        audit_record(
            organization=organization,
            actor=actor,
            action="organization.tool_call_bodies_changed",
            target=organization,
            changes={"keep_tool_call_bodies": {"before": before, "after": keep}},
        )
    return organization
