"""A real DNS server on loopback for domain verification, and the rows single sign-on needs."""

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from orgconnectors.identity.models import ClaimedDomain, SingleSignOn
from tests.peers.dns_server import DnsServer


@pytest.fixture
def dns_server(settings):
    """The only DNS server domain verification asks (ORGCONNECTORS_DNS_RESOLVERS)."""
    server = DnsServer().start()
    settings.ORGCONNECTORS_DNS_RESOLVERS = [server.address]
    yield server
    server.stop()


@pytest.fixture
def single_sign_on():
    """single_sign_on(org) -> an OpenID Connect sign-in set up for the organization (as the
    Sign-in page saves it)."""

    def make(organization) -> SingleSignOn:
        return SingleSignOn.objects.create(
            organization=organization,
            protocol=SingleSignOn.Protocol.OIDC,
            issuer=f"https://idp.{organization.slug}.test",
            client_id="orgconnectors",
        )

    return make


@pytest.fixture
def verified_domain():
    def make(organization, domain: str | None = None) -> ClaimedDomain:
        return ClaimedDomain.objects.create(
            organization=organization,
            domain=domain or f"{organization.slug}.test",
            verification_token="published",
            verified_at=timezone.now(),
            verified_by=ClaimedDomain.Method.OPERATOR,
        )

    return make


@pytest.fixture
def verified_email():
    """verified_email(membership) -> its person can sign in (verification is mandatory)."""

    def make(membership):
        user = membership.user
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        return user

    return make
