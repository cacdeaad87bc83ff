"""The domain's numbers for Prometheus, and the /metrics view that serves them.

Events (checks recorded, refreshes, claims taken over after their lease ran out, tasks) are
counted where they happen, in whichever process that is: a web process or a Celery worker.
With PROMETHEUS_MULTIPROC_DIR set (`make serve` sets it), prometheus-client keeps each
process's counts in files in that directory and /metrics sums them, so any web process
reports the whole machine. States (outbox depth, claims expired and not yet taken over) are
read from the database at scrape time: the same answer from every process and machine.
"""

import hmac
import os

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.outbox.publish import outbox_pending_count

HEALTH_CHECKS = Counter(
    "orgconnectors_health_checks",
    "Health checks recorded, by outcome.",
    ["outcome"],
)
HEALTH_CHECK_LATENCY = Histogram(
    "orgconnectors_health_check_latency_seconds",
    "How long a recorded health check took, by outcome.",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
TOKEN_REFRESHES = Counter(
    "orgconnectors_token_refreshes",
    "OAuth token refreshes, by outcome (refreshed, skipped, retry_later, lapsed).",
    ["outcome"],
)
CLAIMS_EXPIRED = Counter(
    "orgconnectors_claims_expired",
    "Claims taken over after their holder's lease ran out, by kind of work.",
    ["kind"],
)
TASK_DURATION = Histogram(
    "orgconnectors_task_duration_seconds",
    "Celery task run time, by task and final state.",
    ["task", "state"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900),
)
TASK_FAILURES = Counter(
    "orgconnectors_task_failures",
    "Celery tasks that raised, by task.",
    ["task"],
)


def health_check_counted(*, outcome: str, latency_ms: int | None) -> None:
    HEALTH_CHECKS.labels(outcome=outcome).inc()
    if latency_ms is not None:
        HEALTH_CHECK_LATENCY.labels(outcome=outcome).observe(latency_ms / 1000)


class DatabaseCollector:
    """Gauges read at scrape time."""

    def collect(self):
        expired = GaugeMetricFamily(
            "orgconnectors_claims_expired_pending",
            "Claims whose lease ran out and that nobody has taken over yet, by kind of work.",
            labels=["kind"],
        )
        expired.add_metric(
            ["refresh"],
            OAuthCredential.objects.filter(refresh_lease_until__lt=timezone.now()).count(),
        )
        yield expired
        yield GaugeMetricFamily(
            "orgconnectors_outbox_depth",
            "Messages written to the outbox and not yet handed to the broker.",
            value=outbox_pending_count(),
        )


def exposition() -> bytes:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(registry)


def metrics_view(request):
    token = settings.ORGCONNECTORS_METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set ORGCONNECTORS_METRICS_TOKEN to turn them on.")
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(sent.encode(), token.encode()):
        response = HttpResponse("Send the metrics token as a Bearer token.\n", status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
