"""Operators verify a claim in the admin when its owners cannot publish a TXT record."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.identity.domains import domain_claim
from tests.responses import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    operator = get_user_model().objects.create_superuser(
        email="ops@example.com", password="an-operators-password-1"
    )
    client.force_login(operator)
    return client


def _verify_in_admin(client, *claims):
    return client.post(
        reverse("admin:identity_claimeddomain_changelist"),
        {"action": "verify_by_operator", "_selected_action": [c.pk for c in claims]},
        follow=True,
    )


def test_an_operator_verifies_a_claim_and_it_is_audited(operator_client, org, owner, actor):
    claimed, _record = domain_claim(organization=org, domain="acme.example", actor=actor(owner))

    response = _verify_in_admin(operator_client, claimed)

    assert "Verified 1 domain(s)." in text(response)
    claimed.refresh_from_db()
    assert claimed.is_verified
    assert claimed.verified_by == "operator"
    event = AuditEvent.objects.get(action="domain.verified")
    assert event.actor_label == "ops@example.com"
    assert event.changes["verified_by"] == {"before": None, "after": "operator"}


def test_an_operator_cannot_verify_a_domain_another_organization_holds(
    operator_client, org, owner, other_org, other_owner, actor
):
    ours, _record = domain_claim(organization=org, domain="shared.example", actor=actor(owner))
    theirs, _record = domain_claim(
        organization=other_org, domain="shared.example", actor=actor(other_owner)
    )
    _verify_in_admin(operator_client, theirs)

    response = _verify_in_admin(operator_client, ours)

    assert "shared.example is already verified by another organization" in text(response)
    ours.refresh_from_db()
    assert not ours.is_verified


def test_the_admin_page_changes_nothing_but_through_the_action(operator_client, org, owner, actor):
    claimed, _record = domain_claim(organization=org, domain="acme.example", actor=actor(owner))

    response = operator_client.post(
        reverse("admin:identity_claimeddomain_change", args=[claimed.pk]),
        {"domain": "other.example"},
    )

    assert response.status_code == 403
    claimed.refresh_from_db()
    assert claimed.domain == "acme.example"
