"""Verifying a claim through DNS: dnspython asks a real DNS server on loopback for the TXT
record, as it would the owners' DNS provider."""

import pytest
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.identity.domains import (
    DomainNotVerified,
    DomainTaken,
    domain_claim,
    domain_verify,
)
from orgconnectors.identity.models import ClaimedDomain
from tests.api.conftest import token_client
from tests.responses import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(org, owner, actor):
    claimed, record = domain_claim(organization=org, domain="acme.example", actor=actor(owner))
    return claimed, record


def test_a_published_record_verifies_the_claim(claim, dns_server, owner, actor):
    claimed, record = claim
    dns_server.set_txt(record.name, "v=spf1 -all", record.value)

    verified = domain_verify(claimed_domain=claimed, actor=actor(owner))

    assert verified.is_verified
    assert verified.verified_by == "dns"
    assert verified.last_check_error == ""
    assert dns_server.queries == ["_orgconnectors-challenge.acme.example."]
    event = AuditEvent.objects.get(action="domain.verified")
    assert event.changes["verified_by"] == {"before": None, "after": "dns"}
    assert event.actor == owner.user


def _refused(claimed, owner, actor) -> str:
    with pytest.raises(DomainNotVerified) as refused:
        domain_verify(claimed_domain=claimed, actor=actor(owner))
    claimed.refresh_from_db()
    assert not claimed.is_verified
    assert claimed.last_checked_at is not None
    assert not AuditEvent.objects.filter(action="domain.verified").exists()
    assert claimed.last_check_error in refused.value.message
    return refused.value.message


def test_a_record_with_another_token_is_refused_and_kept_as_the_last_error(
    claim, dns_server, owner, actor
):
    claimed, record = claim
    dns_server.set_txt(record.name, "orgconnectors-domain-verification=someone-elses")

    message = _refused(claimed, owner, actor)

    assert message == (
        "acme.example is not verified yet: The TXT record at "
        "_orgconnectors-challenge.acme.example holds another token; publish "
        f"“{record.value}” (the token shown for this claim)."
    )


def test_a_name_with_unrelated_records_is_refused(claim, dns_server, owner, actor):
    claimed, record = claim
    dns_server.set_txt(record.name, "google-site-verification=abc")

    message = _refused(claimed, owner, actor)

    assert "has no TXT record starting with “orgconnectors-domain-verification=”" in message


def test_a_record_not_published_yet_is_refused_with_nxdomain(claim, dns_server, owner, actor):
    claimed, _record = claim

    message = _refused(claimed, owner, actor)

    assert "_orgconnectors-challenge.acme.example does not exist in DNS (NXDOMAIN)" in message


def test_a_name_without_txt_records_is_refused(claim, dns_server, owner, actor):
    claimed, record = claim
    dns_server.set_no_txt(record.name)

    message = _refused(claimed, owner, actor)

    assert "_orgconnectors-challenge.acme.example has no TXT record." in message


def test_a_dns_server_that_never_answers_is_given_up_on(claim, dns_server, owner, actor, settings):
    claimed, record = claim
    dns_server.set_txt(record.name, record.value)
    dns_server.go_silent()
    settings.ORGCONNECTORS_EGRESS_CONNECT_TIMEOUT = 0.3

    message = _refused(claimed, owner, actor)

    assert "got no answer within 0.3 seconds; try again" in message


def test_a_domain_verified_first_by_another_organization_is_a_conflict(
    claim, dns_server, owner, other_org, other_owner, actor
):
    claimed, record = claim
    theirs, their_record = domain_claim(
        organization=other_org, domain="acme.example", actor=actor(other_owner)
    )
    dns_server.set_txt(record.name, record.value, their_record.value)
    domain_verify(claimed_domain=theirs, actor=actor(other_owner))

    with pytest.raises(DomainTaken, match="already verified by another organization"):
        domain_verify(claimed_domain=claimed, actor=actor(owner))

    claimed.refresh_from_db()
    assert not claimed.is_verified


def test_the_api_answers_what_dns_said(claim, dns_server, owner, actor):
    claimed, record = claim
    client = token_client(owner, actor=actor)
    url = f"/api/v1/orgs/acme/domains/{claimed.pk}/verify"

    missing = client.post(url)
    dns_server.set_txt(record.name, record.value)
    published = client.post(url)

    assert missing.status_code == 400
    assert "does not exist in DNS (NXDOMAIN)" in missing.json()["detail"]
    assert published.status_code == 200, published.content
    assert published.json()["verified"] is True
    assert published.json()["verified_by"] == "dns"


def test_an_owner_claims_and_verifies_a_domain_on_the_sign_in_page(client, dns_server, owner, org):
    client.force_login(owner.user)
    page = reverse("sign_in_settings", kwargs={"slug": "acme"})

    claimed_response = client.post(
        reverse("domain_claim", kwargs={"slug": "acme"}), {"domain": "acme.example"}, follow=True
    )
    claimed = ClaimedDomain.objects.get(organization=org)
    record_value = f"orgconnectors-domain-verification={claimed.verification_token}"
    verify_url = reverse("domain_verify", kwargs={"slug": "acme", "domain_id": claimed.pk})
    failed = client.post(verify_url, follow=True)
    dns_server.set_txt("_orgconnectors-challenge.acme.example", record_value)
    verified = client.post(verify_url, follow=True)

    assert claimed_response.redirect_chain[-1][0] == page + "#domains-title"
    assert "acme.example is claimed" in text(claimed_response)
    assert "_orgconnectors-challenge.acme.example" in text(claimed_response)
    assert record_value in text(claimed_response)
    assert "does not exist in DNS (NXDOMAIN)" in text(failed)
    assert "acme.example is verified." in text(verified)
    assert "Verified" in text(verified)
