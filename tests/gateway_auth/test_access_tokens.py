"""The gateway's token check: what it costs per call, and how fast a refusal bites."""

from datetime import timedelta

import pytest
import time_machine
from allauth.idp.oidc.models import Token
from django.utils import timezone

from orgconnectors.gateway.authorization.access_tokens import (
    AccessTokenRefused,
    check_access_token,
    expired_tokens_delete,
    forget,
    gateway_access_token_mint,
)
from orgconnectors.organizations.models import Membership
from orgconnectors.organizations.services import membership_change_role, membership_remove
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def minted(member, settings):
    settings.ORGCONNECTORS_BASE_URL = "https://oc.example.com"
    settings.ORGCONNECTORS_GATEWAY_CACHE_SECONDS = 60
    forget()
    connector = ConnectorFactory(organization=member.organization)
    yield gateway_access_token_mint(membership=member, connectors=[connector])[connector.pk]
    forget()


def test_a_first_check_costs_three_queries_and_a_repeated_one_none(
    minted, member, django_assert_num_queries
):
    # The token by its hash; the membership with its organization and user; the connector.
    with django_assert_num_queries(3):
        assert check_access_token(token=minted.value, resource=minted.url) == member
    with django_assert_num_queries(0):
        assert check_access_token(token=minted.value, resource=minted.url) == member


def test_a_removed_member_is_refused_at_once_even_when_remembered(minted, member, owner, actor):
    check_access_token(token=minted.value, resource=minted.url)

    membership_remove(membership=member, actor=actor(owner))

    with pytest.raises(AccessTokenRefused, match="unknown, expired or revoked"):
        check_access_token(token=minted.value, resource=minted.url)
    assert not Token.objects.filter(user=member.user).exists()


def test_a_member_made_auditor_is_forgotten_at_once(minted, member, owner, actor):
    check_access_token(token=minted.value, resource=minted.url)

    membership_change_role(membership=member, role=Membership.Role.AUDITOR, actor=actor(owner))

    # Their tokens went with their connections; the caller refuses auditors in any case.
    with pytest.raises(AccessTokenRefused):
        check_access_token(token=minted.value, resource=minted.url)


def test_a_revoked_token_is_refused_at_once_even_when_remembered(minted):
    check_access_token(token=minted.value, resource=minted.url)

    Token.objects.filter(type=Token.Type.ACCESS_TOKEN).delete()

    with pytest.raises(AccessTokenRefused, match="unknown, expired or revoked"):
        check_access_token(token=minted.value, resource=minted.url)


def test_an_expired_token_is_refused_and_never_remembered_past_its_expiry(minted, settings):
    check_access_token(token=minted.value, resource=minted.url)
    later = timezone.now() + timedelta(seconds=settings.IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN + 1)

    with time_machine.travel(later, tick=False):
        forget()  # a process that never saw it
        with pytest.raises(AccessTokenRefused, match="unknown, expired or revoked"):
            check_access_token(token=minted.value, resource=minted.url)


@pytest.mark.parametrize(
    "resource, words",
    [
        ("https://oc.example.com/mcp/acme/999999", "issued for another resource"),
        ("https://elsewhere.example/mcp/acme/1", "not an endpoint of this gateway"),
    ],
)
def test_a_token_is_good_only_for_its_own_endpoint(minted, resource, words):
    with pytest.raises(AccessTokenRefused, match=words):
        check_access_token(token=minted.value, resource=resource)


def test_an_unknown_token_is_refused_with_a_sentence(minted):
    with pytest.raises(AccessTokenRefused, match="authorize again"):
        check_access_token(token="made-up", resource=minted.url)


def test_the_daily_purge_deletes_expired_tokens_only(minted, member, settings):
    later = timezone.now() + timedelta(seconds=settings.IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN + 1)
    connector = ConnectorFactory(organization=member.organization)

    with time_machine.travel(later, tick=False):
        fresh = gateway_access_token_mint(membership=member, connectors=[connector])
        deleted = expired_tokens_delete(batch=1)

    assert deleted == 1
    assert list(Token.objects.values_list("hash", flat=True)) != []
    with time_machine.travel(later, tick=False):
        assert check_access_token(token=fresh[connector.pk].value, resource=fresh[connector.pk].url)
