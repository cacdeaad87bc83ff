"""A break-glass link spent twice at the same moment signs in once."""

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.identity.break_glass import (
    BreakGlassRefused,
    break_glass_issue,
    break_glass_use,
)
from orgconnectors.identity.models import BreakGlassLink

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_link_used_twice_at_once_works_once(org, owner, run_concurrently):
    _link, token = break_glass_issue(
        organization=org,
        email="owner@acme.test",
        reason="IdP down",
        operator=Actor.system("tests"),
    )

    def use():
        return break_glass_use(token=token, actor=Actor.system("browser"))

    outcomes = run_concurrently(use, use)

    assert sum(isinstance(o, BreakGlassLink) for o in outcomes) == 1, outcomes
    (refused,) = [o for o in outcomes if isinstance(o, BreakGlassRefused)]
    assert refused.status == 410
    assert AuditEvent.objects.filter(action="sso.break_glass_used").count() == 1
