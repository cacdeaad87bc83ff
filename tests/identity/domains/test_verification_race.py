"""Two organizations verifying the same domain at the same moment: one keeps it, the other is
told it is taken (the database's one-verified-claim-per-domain constraint decides)."""

import pytest

from orgconnectors.identity.domains import DomainTaken, domain_claim, domain_verify
from orgconnectors.identity.models import ClaimedDomain

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_organizations_verifying_at_once_leave_one_verified_claim(
    org, owner, other_org, other_owner, actor, dns_server, run_concurrently
):
    ours, our_record = domain_claim(organization=org, domain="shared.example", actor=actor(owner))
    theirs, their_record = domain_claim(
        organization=other_org, domain="shared.example", actor=actor(other_owner)
    )
    dns_server.set_txt(our_record.name, our_record.value, their_record.value)

    outcomes = run_concurrently(
        lambda: domain_verify(claimed_domain=ours, actor=actor(owner)),
        lambda: domain_verify(claimed_domain=theirs, actor=actor(other_owner)),
    )

    verified = [o for o in outcomes if isinstance(o, ClaimedDomain)]
    refused = [o for o in outcomes if isinstance(o, DomainTaken)]
    assert len(verified) == 1 and len(refused) == 1, outcomes
    assert (
        ClaimedDomain.objects.filter(domain="shared.example", verified_at__isnull=False).count()
        == 1
    )
