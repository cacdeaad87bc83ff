"""A health batch works inside its claim: owners' tokens due are refreshed once each and all
at once, no probe starts that could not end inside the lease, and a result is saved only while
the batch still holds its claim. The clock is moved with time_machine; nothing sleeps."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db.models.signals import pre_save
from django.utils import timezone

from orgconnectors.connectors.models import Connector
from orgconnectors.health.models import HealthCheck
from orgconnectors.health.pool import ProbeRunner
from orgconnectors.health.probe import ProbeConfig
from orgconnectors.health.services import connectors_claim_due, health_sweep
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.organizations.models import Membership
from tests.factories import ConnectorFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def runner():
    probe_runner = ProbeRunner(config=ProbeConfig(timeout=5.0, slow_ms=5000), concurrency=4)
    yield probe_runner
    probe_runner.close()


@pytest.fixture
def owners_connectors(auth_server, provider, authorize):
    """Three organizations, each with an OAuth connector at the test server that its owner
    authorized (so each check needs that owner's token)."""

    def make(count: int) -> list[Connector]:
        connectors = []
        for index in range(count):
            org = OrganizationFactory(slug=f"org-{index}", name=f"Org {index}")
            owner = MembershipFactory(organization=org, role=Membership.Role.OWNER)
            connector = ConnectorFactory(
                organization=org, name="Tracker", url=auth_server.mcp_url, auth=Connector.Auth.OAUTH
            )
            authorize(owner, connector)
            connectors.append(connector)
        Connector.objects.update(next_check_at=timezone.now())
        return connectors

    return make


@pytest.fixture
def claim_held_at_each_save():
    """For each connector state saved by a check: whether its claim still held right then."""
    held: list[bool] = []

    def look(sender, instance, update_fields=None, **kwargs):
        if update_fields and "last_checked_at" in update_fields:
            claim = Connector.objects.filter(pk=instance.pk).values_list("next_check_at").get()[0]
            held.append(claim > timezone.now())

    pre_save.connect(look, sender=Connector, dispatch_uid="claim-held")
    yield held
    pre_save.disconnect(sender=Connector, dispatch_uid="claim-held")


def _tokens_due():
    soonest = OAuthCredential.objects.order_by("expires_at").first().expires_at
    return time_machine.travel(soonest - timedelta(seconds=30), tick=False)


def test_a_batch_refreshes_each_due_owner_token_once_and_all_at_once(
    owners_connectors, provider, runner, claim_held_at_each_save
):
    connectors = owners_connectors(3)
    generations = dict(OAuthCredential.objects.values_list("pk", "generation"))
    all_in_flight = threading.Barrier(3, timeout=10)
    waited_alone = []

    def wait_for_the_others():
        try:
            all_in_flight.wait()
        except threading.BrokenBarrierError:
            waited_alone.append(True)  # refreshed one after another

    provider.during_refresh = wait_for_the_others
    with _tokens_due():
        report = health_sweep(runner=runner)

    assert provider.refresh_calls == 3
    assert waited_alone == []
    for credential in OAuthCredential.objects.all():
        assert credential.generation == generations[credential.pk] + 1
    assert report.recorded == 3
    checks = HealthCheck.objects.filter(connector__in=connectors)
    assert sorted(checks.values_list("outcome", flat=True)) == ["healthy"] * 3
    assert claim_held_at_each_save == [True, True, True]


def test_a_result_that_lands_after_the_batch_lost_its_claim_is_discarded(
    owners_connectors, runner, settings
):
    (connector,) = owners_connectors(1)
    taken_over = {}

    class LeaseRunsOutWhileProbing:
        config = runner.config

        def __init__(self, clock):
            self.clock = clock

        def probe_many(self, targets, **options):
            results = runner.probe_many(targets, **options)
            self.clock.shift(timedelta(seconds=settings.ORGCONNECTORS_PROBE_LEASE_SECONDS + 1))
            taken_over["claimed"] = connectors_claim_due()  # another worker's sweep
            return results

    with time_machine.travel(timezone.now(), tick=False) as clock:
        report = health_sweep(runner=LeaseRunsOutWhileProbing(clock))

    assert report.recorded == 0
    assert not HealthCheck.objects.exists()
    (second,) = taken_over["claimed"]
    connector.refresh_from_db()
    assert connector.next_check_at == second.lease_until  # the second worker's claim stands
    assert connector.last_checked_at is None


def test_a_batch_whose_lease_is_nearly_over_after_its_tokens_starts_no_probe(
    owners_connectors, provider, runner, settings
):
    settings.ORGCONNECTORS_PROBE_LEASE_SECONDS = 50
    (connector,) = owners_connectors(1)

    with _tokens_due() as clock:
        # The refresh takes most of what the lease left for work.
        provider.during_refresh = lambda: clock.shift(timedelta(seconds=40))
        report = health_sweep(runner=runner)
        now = timezone.now()

    assert provider.refresh_calls == 1
    assert report.recorded == 0
    assert not HealthCheck.objects.exists()
    connector.refresh_from_db()
    assert connector.last_checked_at is None
    assert connector.next_check_at <= now  # given back: due at once for another batch
