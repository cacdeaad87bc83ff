from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from orgconnectors.health.outcomes import Outcome, ProbeResult
from orgconnectors.health.services import health_result_record
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh import credential_claim
from orgconnectors.outbox.models import OutboxMessage
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.messages_api.helpers import stored_credential

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"

METRIC_NAMES = {
    "orgconnectors_health_checks",
    "orgconnectors_health_check_latency_seconds",
    "orgconnectors_token_refreshes",
    "orgconnectors_claims_expired",
    "orgconnectors_claims_expired_pending",
    "orgconnectors_task_duration_seconds",
    "orgconnectors_task_failures",
    "orgconnectors_outbox_depth",
}


@pytest.fixture
def metrics_on(settings):
    settings.ORGCONNECTORS_METRICS_TOKEN = TOKEN


def scrape(client) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def sample(families: dict, name: str, sample_name: str, **labels) -> float:
    for s in families[name].samples:
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0.0


def test_metrics_are_a_404_while_no_token_is_set(client, settings):
    settings.ORGCONNECTORS_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_metrics_refuse_a_request_without_the_token_or_with_another(client, metrics_on):
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert response.status_code == 401
    assert b"orgconnectors_" not in response.content


def test_metrics_take_only_get(client, metrics_on):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_metrics_list_the_domain_metrics(client, metrics_on):
    assert METRIC_NAMES <= set(scrape(client))


def test_a_recorded_health_check_shows_in_the_counters_and_the_latency_histogram(
    client, metrics_on
):
    connector = ConnectorFactory()
    before = scrape(client)
    health_result_record(
        connector_id=connector.pk, result=ProbeResult(Outcome.HEALTHY, latency_ms=120, tools=[])
    )
    after = scrape(client)
    name = "orgconnectors_health_checks"
    assert sample(after, name, f"{name}_total", outcome="healthy") == (
        sample(before, name, f"{name}_total", outcome="healthy") + 1
    )
    latency = "orgconnectors_health_check_latency_seconds"
    assert sample(after, latency, f"{latency}_bucket", outcome="healthy", le="0.25") == (
        sample(before, latency, f"{latency}_bucket", outcome="healthy", le="0.25") + 1
    )
    assert sample(after, latency, f"{latency}_bucket", outcome="healthy", le="0.1") == (
        sample(before, latency, f"{latency}_bucket", outcome="healthy", le="0.1")
    )


def test_a_refresh_claim_whose_lease_ran_out_is_pending_then_counted_when_taken_over(
    client, metrics_on
):
    credential = stored_credential(ConnectionFactory())
    OAuthCredential.objects.filter(pk=credential.pk).update(
        refresh_lease_until=timezone.now() - timedelta(minutes=1), refresh_lease_token="gone"
    )
    before = scrape(client)
    pending = "orgconnectors_claims_expired_pending"
    assert sample(before, pending, pending, kind="refresh") == 1
    assert credential_claim(credential.pk) is not None
    after = scrape(client)
    assert sample(after, pending, pending, kind="refresh") == 0
    name = "orgconnectors_claims_expired"
    assert sample(after, name, f"{name}_total", kind="refresh") == (
        sample(before, name, f"{name}_total", kind="refresh") + 1
    )


def test_the_outbox_depth_is_the_number_of_tasks_waiting_to_be_sent(client, metrics_on):
    # Written as the outbox writes it while the broker is down: not sent yet.
    OutboxMessage.objects.create(task_name="health.notify_owners", kwargs={})

    assert sample(scrape(client), "orgconnectors_outbox_depth", "orgconnectors_outbox_depth") == 1


def test_the_outbox_depth_leaves_out_the_tasks_already_sent(client, metrics_on):
    OutboxMessage.objects.create(task_name="health.notify_owners", sent_at=timezone.now())
    OutboxMessage.objects.create(task_name="health.notify_owners")

    assert sample(scrape(client), "orgconnectors_outbox_depth", "orgconnectors_outbox_depth") == 1
