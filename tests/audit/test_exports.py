"""Exports: exactly the filtered view, as CSV or JSON Lines; large ones through a job."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import TestCase
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.audit.usage import usage_record
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.core.errors import NotAllowed
from orgconnectors.reports.errors import ExportGone
from orgconnectors.reports.export_jobs import (
    export_file,
    export_job_run,
    export_request,
    exports_expire,
)
from orgconnectors.reports.models import ExportJob
from orgconnectors.reports.selectors import AuditFilters, audit_events_filtered
from orgconnectors.reports.usage_selectors import UsageFilters
from tests.factories import ConnectorFactory
from tests.responses import text

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
def trail(org, write_event):
    """Nine events: three actors, two actions, one refused, a target that looks like a formula."""
    events = []
    for n in range(9):
        with time_machine.travel(NOON + timedelta(minutes=n), tick=False):
            events.append(
                write_event(
                    "connector.updated" if n % 2 else "oauth.step_up_refused",
                    by=("alice", "bob", "carol")[n % 3] + "@acme.test",
                    target=AuditTarget(
                        type="connector",
                        id=n,
                        label="=HYPERLINK(evil)" if n == 4 else f"Connector {n}",
                        connector_id=n,
                    ),
                    changes={"n": {"before": n - 1, "after": n}},
                )
            )
    return events


def lines(stream) -> str:
    return "".join(stream)


def export(membership, actor, source="audit", fmt="csv", filters=None):
    filters = filters or (AuditFilters() if source == "audit" else UsageFilters())
    return export_request(
        membership=membership, source=source, fmt=fmt, filters=filters, actor=actor(membership)
    )


@pytest.mark.parametrize(
    "filters",
    [
        AuditFilters(),
        AuditFilters(actor="ALICE"),
        AuditFilters(action="connector.updated", actor="b"),
        AuditFilters(outcome="refused"),
        AuditFilters(target="Connector 7"),
        AuditFilters(connector=3),
    ],
)
def test_a_csv_export_holds_exactly_the_filtered_events(org, auditor, actor, trail, filters):
    result = export(auditor, actor, filters=filters)
    # Read when the rows leave: the export's own audit event is one of them when it matches.
    expected = list(audit_events_filtered(organization=org, filters=filters))
    rows = list(csv.DictReader(io.StringIO(lines(result.stream()))))

    assert result.job is None
    assert [int(r["id"]) for r in rows] == [e.pk for e in expected]
    for row, event in zip(rows, expected, strict=True):
        assert row["actor"] == event.actor_label
        assert row["outcome"] == event.outcome
        assert json.loads(row["changes"]) == event.changes
        # The export's own event is not sealed yet (the test's transaction never commits).
        assert (row["prev_hash"], row["hash"]) == (event.prev_hash or "", event.hash or "")
        assert datetime.fromisoformat(row["created_at"]) == event.created_at


def test_a_json_lines_export_holds_the_same_events(org, owner, actor, trail):
    filters = AuditFilters(actor="carol")

    result = export(owner, actor, fmt="jsonl", filters=filters)
    objects = [json.loads(line) for line in lines(result.stream()).splitlines()]

    expected = list(audit_events_filtered(organization=org, filters=filters))
    assert [o["id"] for o in objects] == [e.pk for e in expected]
    assert objects[0]["changes"] == expected[0].changes
    assert objects[0]["connector_id"] == expected[0].connector_ref


def test_a_name_that_looks_like_a_formula_is_not_one_in_the_csv(org, auditor, actor, trail):
    rows = list(csv.DictReader(io.StringIO(lines(export(auditor, actor).stream()))))

    assert {r["target"] for r in rows if r["target_id"] == "4"} == {"'=HYPERLINK(evil)"}


def test_every_export_is_recorded_with_its_filters(org, auditor, actor, trail):
    filters = AuditFilters(actor="alice", date_from=NOON.date())

    export(auditor, actor, filters=filters)

    event = AuditEvent.objects.filter(action="audit.exported").get()
    assert event.actor_label == "auditor@acme.test"
    assert event.changes["filters"]["after"] == {"actor": "alice", "date_from": "2026-03-14"}
    assert event.changes["delivery"]["after"] == "stream"
    assert event.changes["format"]["after"] == "csv"


def test_members_cannot_export(member, actor):
    with pytest.raises(NotAllowed):
        export(member, actor)


def test_a_usage_export_names_members_and_connectors(org, member, owner, actor):
    docs = ConnectorFactory(organization=org, name="Docs")
    with TestCase.captureOnCommitCallbacks(execute=True):
        usage_record(organization=org, kind="configuration", user=member.user, connector=docs)
        usage_record(organization=org, kind="health", connector=docs)

    result = export(owner, actor, source="usage", filters=UsageFilters(kind="configuration"))
    rows = list(csv.DictReader(io.StringIO(lines(result.stream()))))

    assert [(r["kind"], r["member"], r["connector"]) for r in rows] == [
        ("configuration", "member@acme.test", "Docs")
    ]
    assert AuditEvent.objects.filter(action="usage.exported").exists()


def test_past_the_stream_limit_an_export_becomes_a_job(
    org, auditor, actor, trail, settings, django_capture_on_commit_callbacks
):
    settings.ORGCONNECTORS_EXPORT_STREAM_LIMIT = 5
    settings.CELERY_TASK_ALWAYS_EAGER = True

    with django_capture_on_commit_callbacks(execute=True):
        result = export(auditor, actor, fmt="jsonl", filters=AuditFilters(actor="@"))

    job = ExportJob.objects.get(pk=result.job.pk)
    assert (job.status, job.requested_by, job.filters) == ("done", auditor.user, {"actor": "@"})
    # The nine events, and the record of this export.
    assert job.rows_written == job.rows_expected == 10
    assert job.expires_at == job.finished_at + timedelta(hours=24)
    written = [json.loads(line) for line in export_file(job).read_text().splitlines()]
    recorded = AuditEvent.objects.get(action="audit.exported")
    assert [row["id"] for row in written] == [recorded.pk] + [e.pk for e in reversed(trail)]
    assert recorded.changes["delivery"]["after"] == "job"
    assert recorded.target_id == str(job.pk)


def test_a_job_runs_once_however_often_its_task_is_delivered(org, owner, trail):
    job = ExportJob.objects.create(
        organization=org, requested_by=owner.user, source="audit", format="csv"
    )

    assert export_job_run(job_id=job.pk) == 9
    assert export_job_run(job_id=job.pk) == 0


def test_a_job_reports_its_progress_page_by_page(org, owner, trail, monkeypatch):
    monkeypatch.setattr("orgconnectors.reports.export_formats.FIRST_BATCH", 2)
    monkeypatch.setattr("orgconnectors.reports.export_formats.BATCH_SIZE", 4)
    seen = []
    job = ExportJob.objects.create(
        organization=org, requested_by=owner.user, source="audit", format="csv"
    )
    from orgconnectors.reports import export_jobs

    real_chunks = export_jobs.chunks

    def chunks(**kwargs):
        on_batch = kwargs.pop("on_batch")

        def note(written):
            on_batch(written)
            seen.append(ExportJob.objects.get(pk=job.pk).percent)

        yield from real_chunks(on_batch=note, **kwargs)

    monkeypatch.setattr(export_jobs, "chunks", chunks)
    export_job_run(job_id=job.pk)

    # 2, 6 and 9 of 9 rows (a small first page); 100 only once the file is complete.
    assert seen == [22, 66, 99]
    assert ExportJob.objects.get(pk=job.pk).percent == 100


def test_the_file_is_gone_after_24_hours(org, owner, trail):
    job = ExportJob.objects.create(
        organization=org, requested_by=owner.user, source="audit", format="csv"
    )
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    path = export_file(job)

    later = job.finished_at + timedelta(hours=24, minutes=1)
    with pytest.raises(ExportGone, match="expired after 24 hours"):
        export_file(job, now=later)
    assert exports_expire(now=later) == 1

    assert not path.exists()
    job.refresh_from_db()
    assert job.status == "expired"


def test_a_job_whose_worker_died_is_given_up(org, owner):
    job = ExportJob.objects.create(
        organization=org,
        requested_by=owner.user,
        source="audit",
        format="csv",
        status="running",
        started_at=NOON,
    )

    exports_expire(now=NOON + timedelta(hours=7))

    job.refresh_from_db()
    assert (job.status, job.error) == (
        "failed",
        "The worker writing this export stopped; export again.",
    )


def test_the_export_page_shows_progress_then_the_download(org, auditor, client, trail):
    job = ExportJob.objects.create(
        organization=org, requested_by=auditor.user, source="audit", format="csv",
        filters={"actor": "alice"},
    )  # fmt: skip
    client.force_login(auditor.user)
    url = reverse("export_detail", args=["acme", job.pk])

    waiting = client.get(url)
    export_job_run(job_id=job.pk)
    fragment = client.get(url, headers={"HX-Request": "true"})
    download = client.get(reverse("export_download", args=["acme", job.pk]))

    assert 'hx-trigger="every 1s"' in waiting.content.decode()
    assert "Waiting for a worker" in waiting.content.decode()
    assert "Ready: 3 rows." in fragment.content.decode()
    assert "hx-trigger" not in fragment.content.decode()
    assert (
        download["Content-Disposition"]
        == f'attachment; filename="acme-audit-{job.created_at.date().isoformat()}.csv"'
    )
    body = text(download).splitlines()
    assert body[0].startswith("id,created_at,actor,")
    assert len(body) == 4


def test_only_the_person_who_asked_sees_the_export(org, owner, auditor, client, trail):
    job = ExportJob.objects.create(
        organization=org, requested_by=owner.user, source="audit", format="csv"
    )
    export_job_run(job_id=job.pk)
    client.force_login(auditor.user)

    assert client.get(reverse("export_detail", args=["acme", job.pk])).status_code == 404
    assert client.get(reverse("export_download", args=["acme", job.pk])).status_code == 404


def test_an_expired_download_says_so(org, auditor, client, trail):
    job = ExportJob.objects.create(
        organization=org, requested_by=auditor.user, source="audit", format="csv"
    )
    export_job_run(job_id=job.pk)
    client.force_login(auditor.user)

    with time_machine.travel(datetime.now(UTC) + timedelta(days=2)):
        response = client.get(reverse("export_download", args=["acme", job.pk]))

    assert response.status_code == 410
    assert "expired after 24 hours; export the view again" in response.content.decode()


def test_the_web_export_streams_the_filtered_view(org, auditor, client, trail):
    client.force_login(auditor.user)

    response = client.get(reverse("audit_export", args=["acme"]), {"format": "csv", "actor": "bob"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert {r["actor"] for r in rows} == {"bob@acme.test"} and len(rows) == 3


def test_a_web_export_without_a_format_says_which_to_choose(auditor, client):
    client.force_login(auditor.user)

    response = client.get(reverse("audit_export", args=["acme"]))

    assert response.status_code == 400
    assert "Say which format to export: format=csv or format=jsonl." in response.content.decode()


def test_a_large_web_export_goes_to_its_progress_page(
    org, auditor, client, trail, settings, django_capture_on_commit_callbacks
):
    settings.ORGCONNECTORS_EXPORT_STREAM_LIMIT = 2
    client.force_login(auditor.user)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.get(reverse("usage_export", args=["acme"]), {"format": "csv"})
        response = client.get(reverse("audit_export", args=["acme"]), {"format": "csv"})

    job = ExportJob.objects.get(source="audit")
    assert response.status_code == 302
    assert response["Location"] == reverse("export_detail", args=["acme", job.pk])
