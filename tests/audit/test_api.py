"""Usage events and exports through the JSON API."""

import csv
import io

import pytest
from django.test import TestCase

from orgconnectors.audit.models import AuditEvent
from orgconnectors.audit.usage import usage_record
from orgconnectors.reports.export_jobs import export_job_run
from orgconnectors.reports.models import ExportJob
from tests.api.conftest import token_client
from tests.factories import ConnectorFactory
from tests.responses import api_error, text

ACME = "/api/v1/orgs/acme"


@pytest.fixture
def reader(auditor, actor):
    return token_client(auditor, actor=actor)


def usage(org, **refs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        usage_record(organization=org, **refs)


def test_usage_events_come_newest_first_with_names(org, member, reader):
    docs = ConnectorFactory(organization=org, name="Docs")
    usage(org, kind="authorization", user=member.user, connector=docs, details={"scope": "r"})
    usage(org, kind="health", connector=docs)

    body = reader.get(ACME + "/usage-events").json()

    assert body["next_cursor"] is None
    assert [e["kind"] for e in body["events"]] == ["health", "authorization"]
    assert body["events"][1] | {"id": 0, "created_at": ""} == {
        "id": 0,
        "created_at": "",
        "kind": "authorization",
        "user_id": member.user_id,
        "member": "member@acme.test",
        "connector_id": docs.pk,
        "connector": "Docs",
        "api_token_id": None,
        "ip": None,
        "details": {"scope": "r"},
    }


def test_usage_events_filter_and_page(org, member, reader):
    docs = ConnectorFactory(organization=org)
    for _ in range(3):
        usage(org, kind="configuration", user=member.user, connector=docs)
    usage(org, kind="health", connector=docs)

    first = reader.get(ACME + "/usage-events", {"kind": "configuration", "limit": 2}).json()
    rest = reader.get(
        ACME + "/usage-events",
        {"kind": "configuration", "limit": 2, "cursor": first["next_cursor"]},
    ).json()

    assert len(first["events"]) == 2 and len(rest["events"]) == 1
    assert rest["next_cursor"] is None
    assert reader.get(ACME + "/usage-events", {"member": member.user_id}).json()["events"]
    assert reader.get(ACME + "/usage-events", {"kind": "nope"}).status_code == 400


def test_the_audit_trail_filters_by_outcome_through_the_api(reader, write_event):
    write_event("oauth.refresh_failed")
    write_event("connector.updated")

    events = reader.get(ACME + "/audit-events", {"outcome": "failure"}).json()["events"]

    assert [(e["action"], e["outcome"]) for e in events] == [("oauth.refresh_failed", "failure")]


def test_an_export_streams_the_file_and_is_recorded(reader, write_event):
    write_event(by="alice@acme.test")
    write_event(by="bob@acme.test")

    response = reader.get(ACME + "/audit-events/export", {"format": "csv", "actor": "alice"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(text(response))))
    assert [r["actor"] for r in rows] == ["alice@acme.test"]
    assert AuditEvent.objects.filter(action="audit.exported").count() == 1


def test_a_large_export_answers_its_job(reader, auditor, write_event, settings):
    settings.ORGCONNECTORS_EXPORT_STREAM_LIMIT = 1
    write_event()
    write_event()

    response = reader.get(ACME + "/usage-events/export", {"format": "jsonl"})
    assert response.status_code == 200  # no usage yet: nothing to hand to a worker
    response = reader.get(ACME + "/audit-events/export", {"format": "jsonl"})

    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["download_url"], job["filters"]) == ("queued", None, {})
    export_job_run(job_id=job["id"])
    done = reader.get(f"{ACME}/exports/{job['id']}").json()
    assert done["status"] == "done" and done["percent"] == 100
    assert done["download_url"] == f"{ACME}/exports/{job['id']}/download"
    download = reader.get(done["download_url"])
    assert download.status_code == 200
    # Every event of the trail: the two, the token's creation and both exports' records.
    assert len(text(download).splitlines()) == done["rows_written"] == AuditEvent.objects.count()


def test_an_expired_download_is_410(reader, auditor, write_event):
    write_event()
    job = ExportJob.objects.create(
        organization=auditor.organization, requested_by=auditor.user, source="audit", format="csv"
    )
    export_job_run(job_id=job.pk)
    ExportJob.objects.filter(pk=job.pk).update(status="expired")

    response = reader.get(f"{ACME}/exports/{job.pk}/download")

    assert response.status_code == 410
    assert (
        api_error(response)["detail"]
        == "This export has no file to download; it is not ready or it failed."
    )


def test_the_export_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    export = paths["/api/v1/orgs/{org}/audit-events/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv", "application/x-ndjson"}
    assert "202" in export["responses"]
    assert "/api/v1/orgs/{org}/usage-events" in paths
