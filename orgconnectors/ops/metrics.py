"""The /metrics view, serving the domain's numbers to Prometheus.

Events (checks recorded, refreshes, claims taken over after their lease ran out, tasks) are
counted where they happen, in whichever process that is: a web process or a Celery worker,
into the counters of core/metrics.py.
With PROMETHEUS_MULTIPROC_DIR set (`make serve` sets it), prometheus-client keeps each
process's counts in files in that directory and /metrics sums them, so any web process
reports the whole machine. States (outbox depth, claims expired and not yet taken over) are
read from the database at scrape time: the same answer from every process and machine.
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

# The counters are defined at the bottom (core/metrics.py) and counted by the apps; imported
# here so every one of them is registered, and served, in any process that serves /metrics.
from orgconnectors.core import metrics as _counted  # noqa: F401
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.outbox.publish import outbox_pending_count


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
    if settings.PROMETHEUS_MULTIPROC_DIR:
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
