"""The deadline of outbound requests must end before the leases they run under."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from orgconnectors.egress.checks import egress_deadline_is_shorter_than_the_leases


def test_the_default_deadline_is_shorter_than_every_lease():
    assert egress_deadline_is_shorter_than_the_leases() == []


def test_a_deadline_longer_than_the_token_refresh_lease_fails_the_system_check(settings):
    settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS = 90

    with pytest.raises(SystemCheckError, match=r"REFRESH_LEASE_SECONDS, the lease of a token"):
        call_command("check")


def test_a_deadline_longer_than_the_probe_lease_is_refused(settings):
    settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS = 45
    settings.ORGCONNECTORS_PROBE_LEASE_SECONDS = 40

    errors = egress_deadline_is_shorter_than_the_leases()

    assert [e.id for e in errors] == ["orgconnectors.E102"]
    assert "ORGCONNECTORS_PROBE_LEASE_SECONDS" in errors[0].msg


def test_a_deadline_of_zero_is_refused(settings):
    settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS = 0

    assert [e.id for e in egress_deadline_is_shorter_than_the_leases()] == ["orgconnectors.E101"]
