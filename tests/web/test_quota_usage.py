"""Quota usage on the pages: members see their calls against each limit on My connectors,
owners see who is near a limit on the Quotas page; both read the gateway's own counters in
Redis (counted here by the gateway's `quota_hit`), and say "usage unavailable" when Redis is
down."""

import anyio
import pytest
import redis
from django.test import Client
from django.urls import reverse

from orgconnectors.connectors.quotas import quota_rules, quota_set
from orgconnectors.core.actor import Actor
from orgconnectors.gateway.quotas import forget_quota_counts, quota_hit
from tests.factories import ConnectionFactory, ConnectorFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("tests")
MINE = reverse("my_connectors", args=["acme"])
QUOTAS = reverse("quota_list", args=["acme"])


@pytest.fixture(autouse=True)
def _no_counts_left(settings):
    if not settings.REDIS_URL:
        pytest.skip("the counters are shared through Redis (REDIS_URL)")
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    forget_quota_counts()
    yield
    forget_quota_counts()


def _signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _calls(membership, connector, count: int, *, tool: str = "search"):
    """`count` calls counted exactly as the gateway counts them; refusals returned."""
    rules = quota_rules(organization=membership.organization, connector=connector)

    async def scenario():
        return [
            await quota_hit(
                rules=rules,
                organization_id=membership.organization_id,
                membership_id=membership.pk,
                tool=tool,
            )
            for _ in range(count)
        ]

    refusals = [r for r in anyio.run(scenario) if r is not None]
    forget_quota_counts()  # the async client belonged to that event loop
    return refusals


@pytest.fixture
def issues(member):
    connector = ConnectorFactory(organization=member.organization, name="Issues")
    ConnectionFactory(membership=member, connector=connector)
    quota_set(
        organization=member.organization,
        actor=ACTOR,
        connector=connector,
        per_minute=5,
        per_day=None,
    )
    return connector


def test_a_member_sees_their_calls_against_each_limit_on_my_connectors(member, issues):
    assert _calls(member, issues, 4) == []

    page = _signed_in(member).get(MINE).content.decode()

    assert "Issues: 5 per minute" in page
    assert "4 of 5 this minute" in page
    assert "Near the limit" in page
    # The Team plan's default on the whole organization counts the same calls.
    assert "The organization: 120 per minute" in page
    assert "4 of 120 this minute" in page
    assert "4 of 20000 this day" in page


def test_a_refused_call_is_not_counted_and_the_page_shows_the_limit_reached(member, issues):
    refusals = _calls(member, issues, 7)

    page = _signed_in(member).get(MINE).content.decode()

    assert len(refusals) == 2
    assert "5 of 5 this minute" in page


def test_a_member_without_connections_is_told_how_to_see_usage(member):
    page = _signed_in(member).get(MINE).content.decode()

    assert "Connect a connector to see your calls against its quotas." in page


def test_an_owner_sees_who_is_near_a_limit_and_not_who_is_below_it(owner, member, issues):
    ConnectionFactory(membership=owner, connector=issues)
    _calls(member, issues, 4)
    _calls(owner, issues, 3)

    page = _signed_in(owner).get(QUOTAS).content.decode()

    section = page.split('id="near-limits"')[1].split("</section>")[0]
    assert member.user.email in section
    assert "4 of 5 (80%) this minute" in section
    assert owner.user.email not in section


def test_an_owner_is_told_when_no_one_is_near_a_limit(owner, member, issues):
    _calls(member, issues, 1)

    page = _signed_in(owner).get(QUOTAS).content.decode()

    assert "No member has used 80% or more of a limit" in page


def test_usage_is_unavailable_rather_than_failing_when_redis_is_down(
    owner, member, issues, settings, caplog
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    mine = _signed_in(member).get(MINE)
    theirs = _signed_in(owner).get(QUOTAS)

    assert mine.status_code == 200
    assert "Quota usage unavailable" in mine.content.decode()
    assert theirs.status_code == 200
    assert "Usage unavailable" in theirs.content.decode()
    assert "quota usage: its storage did not answer" in caplog.text
