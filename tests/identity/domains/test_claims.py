"""Claiming an email domain: what may be claimed, and what one organization's verification
means for the others."""

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.errors import ServiceError
from orgconnectors.identity.domains import (
    DomainTaken,
    domain_claim,
    domain_release,
    verified_claim_for_email,
)
from orgconnectors.identity.models import ClaimedDomain
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def test_a_claim_is_normalized_and_names_the_txt_record_to_publish(org, owner, actor):
    claimed, record = domain_claim(organization=org, domain=" Bücher.Example. ", actor=actor(owner))

    assert claimed.domain == "xn--bcher-kva.example"
    assert not claimed.is_verified
    assert record.name == "_orgconnectors-challenge.xn--bcher-kva.example"
    assert record.value == f"orgconnectors-domain-verification={claimed.verification_token}"
    event = AuditEvent.objects.get(action="domain.claimed")
    assert event.target_label == "xn--bcher-kva.example"
    assert event.actor == owner.user


def test_an_email_address_is_read_as_its_domain(org, owner, actor):
    claimed, _record = domain_claim(organization=org, domain="ops@Acme.example", actor=actor(owner))

    assert claimed.domain == "acme.example"


@pytest.mark.parametrize("domain", ["gmail.com", "Outlook.com", "proton.me"])
def test_a_public_mail_providers_domain_is_refused(domain, org, owner, actor):
    with pytest.raises(ServiceError, match="public mail provider"):
        domain_claim(organization=org, domain=domain, actor=actor(owner))


@pytest.mark.parametrize(
    "domain, reason",
    [
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
        ("com", "not a domain you can claim"),
        ("192.0.2.10", "not a domain you can claim"),
        ("bad_name!.example", "not a valid domain name"),
        ("", "Enter a domain"),
        ("a" * 64 + ".example", "not a valid domain name"),
    ],
)
def test_names_no_organization_can_own_are_refused(domain, reason, org, owner, actor):
    with pytest.raises(ServiceError, match=reason):
        domain_claim(organization=org, domain=domain, actor=actor(owner))

    assert not ClaimedDomain.objects.exists()


def test_claiming_the_same_domain_twice_is_refused(org, owner, actor):
    domain_claim(organization=org, domain="acme.example", actor=actor(owner))

    with pytest.raises(ServiceError, match="already claimed acme.example"):
        domain_claim(organization=org, domain="ACME.example.", actor=actor(owner))


def test_two_organizations_may_claim_a_domain_nobody_has_verified(
    org, owner, other_org, other_owner, actor
):
    domain_claim(organization=org, domain="shared.example", actor=actor(owner))
    domain_claim(organization=other_org, domain="shared.example", actor=actor(other_owner))

    assert ClaimedDomain.objects.filter(domain="shared.example").count() == 2


def test_a_domain_another_organization_verified_is_refused_without_naming_it(
    org, owner, other_org, verified_domain, actor
):
    verified_domain(other_org, "globex.example")

    response = token_client(owner, actor=actor).post(
        "/api/v1/orgs/acme/domains", {"domain": "globex.example"}
    )

    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == (
        "globex.example is already verified by another organization. If it is yours, ask the "
        "operator of this service to look into it."
    )
    assert "Globex" not in response.content.decode()
    with pytest.raises(DomainTaken):
        domain_claim(organization=org, domain="globex.example", actor=actor(owner))


def test_the_api_lists_the_claims_with_their_records(org, owner, actor):
    client = token_client(owner, actor=actor)
    created = client.post("/api/v1/orgs/acme/domains", {"domain": "acme.example"})

    listed = client.get("/api/v1/orgs/acme/domains")

    assert created.status_code == 201
    assert listed.json() == [created.json()]
    assert created.json()["txt_record"]["name"] == "_orgconnectors-challenge.acme.example"
    assert created.json()["verified"] is False


def test_releasing_a_domain_is_audited(org, owner, actor):
    claimed, _record = domain_claim(organization=org, domain="acme.example", actor=actor(owner))

    response = token_client(owner, actor=actor).delete(f"/api/v1/orgs/acme/domains/{claimed.pk}")

    assert response.status_code == 204
    assert not ClaimedDomain.objects.exists()
    event = AuditEvent.objects.get(action="domain.released")
    assert event.target_label == "acme.example"


def test_the_only_verified_domain_cannot_be_released_while_sso_is_required(
    org, owner, single_sign_on, verified_domain, actor
):
    claimed = verified_domain(org)
    sso = single_sign_on(org)
    sso.require_sso = True
    sso.save()

    with pytest.raises(ServiceError, match="only verified domain and single sign-on is required"):
        domain_release(claimed_domain=claimed, actor=actor(owner))

    assert ClaimedDomain.objects.filter(pk=claimed.pk).exists()


def test_an_address_finds_the_organization_that_verified_its_domain(
    org, other_org, verified_domain, owner, actor
):
    verified_domain(org, "xn--bcher-kva.example")
    domain_claim(organization=other_org, domain="unverified.example", actor=actor(owner))

    assert verified_claim_for_email(email="Ana@Bücher.Example").organization == org
    assert verified_claim_for_email(email="ana@unverified.example") is None
    assert verified_claim_for_email(email="not an address") is None
