"""Results that arrive in the background are announced as toasts: the finished check of "Check
now" (a message on the page htmx reloads), "Check all" and exports (an out-of-band swap into
#messages on the poll that sees the end). Nothing is announced twice or on a plain page load."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.health.models import HealthCheck, HealthRun
from orgconnectors.reports.export_jobs import export_job_run
from orgconnectors.reports.models import ExportJob
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
TOAST = re.compile(
    r'<div hx-swap-oob="beforeend:#messages"><p class="toast toast--(\w+)">([^<]*)</p>'
)


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def toasts(response) -> list[tuple[str, str]]:
    return TOAST.findall(response.content.decode())


def page_messages(response) -> list[str]:
    region = response.content.decode().split('id="messages"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<p class="toast[^"]*">([^<]*)</p>', region)


def run_with(org, owner, kind, results):
    """A finished run of `kind` whose checks had `results`: [(connector, outcome, ms, error)]."""
    run = HealthRun.objects.create(
        organization=org, requested_by=owner.user, kind=kind, total=len(results)
    )
    for connector, outcome, latency_ms, error in results:
        HealthCheck.objects.create(
            connector=connector, organization=org, run=run, checked_at=timezone.now(),
            outcome=outcome, latency_ms=latency_ms, error=error,
        )  # fmt: skip
    return run


def finish(run):
    run.done, run.finished_at = run.total, timezone.now()
    run.save()


def test_check_all_announces_its_end_once_on_the_poll_that_sees_it(org, owner):
    tracker = ConnectorFactory(organization=org, name="Tracker")
    billing = ConnectorFactory(organization=org, name="Billing")
    run = run_with(
        org, owner, "all",
        [(tracker, "healthy", 40, ""), (billing, "unreachable", None, "connection refused")],
    )  # fmt: skip
    run.done = 1
    run.save()
    client = signed_in(owner)
    fragment_url = reverse("health_run_progress", args=[org.slug, run.pk])

    while_running = client.get(fragment_url, headers=HTMX)
    finish(run)
    at_the_end = client.get(fragment_url, headers=HTMX)
    page = client.get(reverse("health_run", args=[org.slug, run.pk]))

    assert toasts(while_running) == []
    assert toasts(at_the_end) == [
        ("warning", "Check all finished: 2 of 2 checked (1 healthy, 1 unreachable).")
    ]
    # The page itself shows the end in its text; a toast there would repeat it.
    assert "hx-swap-oob" not in page.content.decode()


def test_check_all_with_every_connector_up_is_announced_as_a_success(org, owner):
    run = run_with(org, owner, "all", [(ConnectorFactory(organization=org), "healthy", 9, "")])
    finish(run)

    fragment = signed_in(owner).get(reverse("health_run_progress", args=[org.slug, run.pk]))

    assert toasts(fragment) == [("success", "Check all finished: 1 of 1 checked (1 healthy).")]


def test_check_now_leaves_its_result_as_a_message_on_the_reloaded_page(org, owner):
    tracker = ConnectorFactory(organization=org, name="Tracker")
    run = run_with(org, owner, "one", [(tracker, "healthy", 42, "")])
    client = signed_in(owner)
    poll = reverse("health_run_progress", args=[org.slug, run.pk]) + "?then=reload"
    detail = reverse("connector_detail", args=[org.slug, tracker.pk]) + f"?run={run.pk}"

    pending = client.get(poll, headers=HTMX)
    finish(run)
    done = client.get(poll, headers=HTMX)
    reloaded = client.get(detail)
    again = client.get(detail)

    assert "HX-Refresh" not in pending
    assert done["HX-Refresh"] == "true"
    assert page_messages(reloaded) == ["Tracker was checked: Healthy · 42 ms."]
    assert page_messages(again) == []


def test_a_failed_check_now_says_why_in_its_message(org, owner):
    billing = ConnectorFactory(organization=org, name="Billing")
    run = run_with(org, owner, "one", [(billing, "unreachable", None, "connection refused")])
    finish(run)
    client = signed_in(owner)

    client.get(reverse("health_run_progress", args=[org.slug, run.pk]) + "?then=reload")
    reloaded = client.get(reverse("connector_detail", args=[org.slug, billing.pk]))

    assert page_messages(reloaded) == ["Billing was checked: Unreachable — connection refused."]
    assert 'class="toast toast--warning"' in reloaded.content.decode()


def test_an_export_announces_that_it_is_ready_on_the_poll_that_sees_it(org, auditor):
    job = ExportJob.objects.create(
        organization=org, requested_by=auditor.user, source="audit", format="csv"
    )
    client = signed_in(auditor)
    url = reverse("export_detail", args=[org.slug, job.pk])

    waiting = client.get(url, headers=HTMX)
    export_job_run(job_id=job.pk)
    ready = client.get(url, headers=HTMX)
    page = client.get(url)

    assert toasts(waiting) == []
    assert toasts(ready) == [("success", "Your export is ready to download.")]
    assert "hx-swap-oob" not in page.content.decode()


def test_a_failed_export_is_announced_as_an_error(org, auditor):
    job = ExportJob.objects.create(
        organization=org, requested_by=auditor.user, source="audit", format="csv",
        status=ExportJob.Status.FAILED, error="The worker writing this export stopped.",
    )  # fmt: skip

    fragment = signed_in(auditor).get(
        reverse("export_detail", args=[org.slug, job.pk]), headers=HTMX
    )

    assert toasts(fragment) == [("error", "The export failed; this page says why.")]


def test_every_page_loads_the_toast_script(owner):
    page = signed_in(owner).get(reverse("my_connectors", args=[owner.organization.slug]))

    assert "/static/js/toasts.js" in page.content.decode()


def test_a_run_with_nothing_to_check_offers_the_owner_to_add_a_connector(org, owner):
    run = HealthRun.objects.create(organization=org, requested_by=owner.user, kind="all", total=0)
    finish(run)

    fragment = signed_in(owner).get(reverse("health_run_progress", args=[org.slug, run.pk]))

    html = fragment.content.decode()
    assert "There was nothing to check: the organization has no connectors." in html
    assert f'<a href="{reverse("connector_add", args=[org.slug])}">Add a connector</a>' in html
    assert toasts(fragment) == [("success", "Check all finished: there was nothing to check.")]
