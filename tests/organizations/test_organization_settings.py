"""One service changes an organization's settings, each change audited in its transaction."""

from orgconnectors.audit.models import AuditEvent
from orgconnectors.organizations.organization_settings import organization_settings_update


def test_it_turns_zero_data_retention_on_and_records_it(org, owner, actor):
    organization = organization_settings_update(
        organization=org, zero_data_retention=True, actor=actor(owner)
    )

    assert organization.requires_zero_data_retention
    org.refresh_from_db()
    assert org.requires_zero_data_retention
    event = AuditEvent.objects.get(action="organization.zero_data_retention_changed")
    assert event.changes == {"requires_zero_data_retention": {"before": False, "after": True}}


def test_a_setting_given_its_current_value_records_nothing(org, owner, actor):
    organization_settings_update(
        organization=org,
        zero_data_retention=False,
        require_two_factor=False,
        actor=actor(owner),
    )

    assert not AuditEvent.objects.filter(action__startswith="organization.").exists()


def test_settings_left_out_keep_their_values(org, owner, actor):
    organization_settings_update(organization=org, zero_data_retention=True, actor=actor(owner))

    organization_settings_update(organization=org, require_two_factor=True, actor=actor(owner))

    org.refresh_from_db()
    assert org.requires_zero_data_retention
    assert org.require_mfa_for_owners_and_auditors


def test_the_organization_passed_in_sees_the_change(org, owner, actor):
    organization_settings_update(organization=org, require_two_factor=True, actor=actor(owner))

    assert org.require_mfa_for_owners_and_auditors
