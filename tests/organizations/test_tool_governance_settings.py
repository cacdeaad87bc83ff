"""The organization's tool governance settings, through the one settings service."""

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.errors import SettingInvalid
from orgconnectors.organizations.organization_settings import organization_settings_update

pytestmark = pytest.mark.django_db


def test_only_the_settings_given_change_in_one_audited_event(org, owner):
    organization_settings_update(
        organization=org, actor=Actor(user=owner.user), block_new_destructive_tools=True
    )

    org.refresh_from_db()
    assert org.block_new_destructive_tools is True
    assert (org.review_new_connector_tools, org.changed_tools) == (False, "keep_approved")
    (event,) = AuditEvent.objects.filter(action="organization.tool_governance_changed")
    assert event.changes == {"block_new_destructive_tools": {"before": False, "after": True}}


def test_an_unknown_choice_for_changed_tools_is_refused_with_a_sentence(org, owner):
    with pytest.raises(SettingInvalid) as refused:
        organization_settings_update(
            organization=org, actor=Actor(user=owner.user), changed_tools="ignore"
        )

    assert refused.value.field == "changed_tools"
    assert refused.value.message == "Choose “keep_approved” or “hold”."
    assert not AuditEvent.objects.exists()
