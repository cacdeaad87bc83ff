"""`manage.py check` refuses a health lease too short for one batch's worst case."""

from orgconnectors.health.checks import probe_lease_holds_a_batch


def test_the_default_lease_holds_a_batch():
    assert probe_lease_holds_a_batch() == []


def test_a_lease_shorter_than_a_batchs_worst_case_is_refused_with_what_to_set(settings):
    settings.ORGCONNECTORS_PROBE_LEASE_SECONDS = 40

    errors = probe_lease_holds_a_batch()

    assert [e.id for e in errors] == ["orgconnectors.E301"]
    assert "Raise it above 61 s" in errors[0].msg
