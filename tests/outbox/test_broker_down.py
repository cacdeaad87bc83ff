"""Work asked for while the broker (Redis) is down is kept in the outbox, in the transaction
that asked for it, and runs on a real worker once Redis is back and the relay has sent it."""

import pytest
from django.utils import timezone

from orgconnectors.health.models import HealthRun
from orgconnectors.health.services import health_check_all
from orgconnectors.organizations.invitations import invitation_create
from orgconnectors.organizations.models import Membership
from orgconnectors.outbox.models import OutboxMessage
from orgconnectors.outbox.publish import outbox_pending_count, outbox_relay
from orgconnectors.reports.export_jobs import export_request
from orgconnectors.reports.models import ExportJob
from orgconnectors.reports.selectors import AuditFilters
from tests.factories import ConnectorFactory
from tests.loopback import free_socket
from tests.outbox.conftest import WORKER_SECONDS, queued_kwargs, wait_for

# Each test commits (the worker, another process, must see the rows); serialized_rollback
# brings back the plans of the data migration after the flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def relay_until_empty() -> None:
    """What beat's relay does every 5 s: a first try may meet a connection from before the
    restart, the next one sends."""
    wait_for(
        lambda: outbox_relay() >= 0 and outbox_pending_count() == 0,
        seconds=30,
        what="the relay to send every pending task",
    )


def test_check_all_an_export_and_an_invitation_asked_for_while_redis_is_down_run_when_it_is_back(
    org, owner, actor, own_redis, start_worker, settings
):
    settings.ORGCONNECTORS_EXPORT_STREAM_LIMIT = 0  # any export becomes a job for a worker
    with free_socket() as sock:  # nothing listens there: the check finds it unreachable, fast
        ConnectorFactory(organization=org, url=f"http://127.0.0.1:{sock.getsockname()[1]}/mcp")
    own_redis.stop()

    invitation_create(
        organization=org,
        email="newcomer@acme.test",
        role=Membership.Role.MEMBER,
        actor=actor(owner),
    )
    run_id = health_check_all(organization=org, actor=actor(owner))
    export = export_request(
        membership=owner, source="audit", fmt="csv", filters=AuditFilters(), actor=actor(owner)
    )

    waiting = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert sorted(waiting.values_list("task_name", flat=True)) == [
        "audit.export_run",
        "health.run_batch",
        "organizations.invitation_send",
    ]
    assert all(message.last_error for message in waiting)
    assert ExportJob.objects.get(pk=export.job.pk).status == "queued"

    own_redis.start()
    worker = start_worker()
    relay_until_empty()

    wait_for(
        lambda: HealthRun.objects.get(pk=run_id).finished_at,
        seconds=WORKER_SECONDS,
        what="the worker to finish Check all",
    )
    wait_for(
        lambda: ExportJob.objects.get(pk=export.job.pk).status == "done",
        seconds=WORKER_SECONDS,
        what="the worker to write the export",
    )
    wait_for(
        lambda: "/invitations/" in worker.output() and "To: newcomer@acme.test" in worker.output(),
        seconds=WORKER_SECONDS,
        what="the worker to email the invitation",
    )
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_two_relays_at_once_send_each_waiting_task_once(own_redis, run_concurrently):
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task_name="tests.echo", kwargs={"n": n}, created_at=timezone.now())
        for n in range(300)
    )

    outcomes = run_concurrently(lambda: outbox_relay(batch=7), lambda: outbox_relay(batch=7))

    assert sum(outcomes) == 300, outcomes
    assert sorted(kwargs["n"] for kwargs in queued_kwargs(own_redis)) == list(range(300))
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
