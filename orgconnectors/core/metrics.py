"""The domain's numbers for Prometheus: the counters and histograms, defined once, that the
apps count into where things happen (a web process or a Celery worker).

They sit at the bottom so that health, oauth and the task signals can count without importing
the /metrics view; ops/metrics.py serves them (summed across processes with
PROMETHEUS_MULTIPROC_DIR) beside the gauges it reads from the database at scrape time.
"""

from prometheus_client import Counter, Histogram

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
GATEWAY_CALLS = Counter(
    "orgconnectors_gateway_tool_calls",
    "Tool calls through the gateway, by outcome (ok, tool_error, upstream_error, denied, "
    "cancelled).",
    ["outcome"],
)
GATEWAY_CALL_LATENCY = Histogram(
    "orgconnectors_gateway_tool_call_seconds",
    "How long a tool call through the gateway took, upstream included, by outcome.",
    ["outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120, 300),
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


def gateway_call_counted(*, outcome: str, seconds: float) -> None:
    GATEWAY_CALLS.labels(outcome=outcome).inc()
    GATEWAY_CALL_LATENCY.labels(outcome=outcome).observe(seconds)
