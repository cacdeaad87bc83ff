"""scim2-tester, the python-scim2 project's compliance checker, against Acme's endpoint."""

import pytest
from scim2_tester import Status, check_server

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE, Status.SKIPPED}


def test_every_check_scim2_tester_runs_passes(scim_client):
    results = check_server(scim_client)
    failed = [
        f"{r.status.name} {r.resource_type or ''} {r.title}: {r.reason}"
        for r in results
        if r.status not in PASSING
    ]
    assert results
    assert not failed, "\n".join(failed)
