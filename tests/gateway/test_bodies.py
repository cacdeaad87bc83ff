"""Tool-call bodies: kept only where the organization opts in, redacted of secrets, readable by
auditors only, purged with the usage events."""

from datetime import timedelta

import anyio
import pytest
from django.urls import reverse
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent, ToolCallBody, UsageEvent
from orgconnectors.core.actor import Actor
from orgconnectors.gateway.usage_buffer import usage_flush
from orgconnectors.organizations.tool_call_bodies import tool_call_bodies_setting_update
from orgconnectors.reports.retention import audit_retention_purge
from tests.gateway.conftest import endpoint_for, gateway_client

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET_QUERY = "login bug password=hunter2 Bearer abcdefghijklmnopqrstuvwxyz"


def _call(point, arguments):
    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            return await client.call_tool("search", arguments)

    return anyio.run(scenario)


def _keep(organization, keep=True):
    tool_call_bodies_setting_update(
        organization=organization, actor=Actor.system("tests"), keep=keep
    )


def test_no_body_is_kept_unless_the_organization_chose_to(member, gateway, upstreams):
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    _call(point, {"query": "login bug"})

    usage_flush()
    assert UsageEvent.objects.filter(kind="tool_call").count() == 1
    assert not ToolCallBody.objects.exists()


def test_a_kept_body_is_redacted_and_linked_to_its_usage_row(member, gateway, upstreams):
    _keep(member.organization)
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")

    _call(point, {"query": SECRET_QUERY, "api_key": "k-123456"})

    usage_flush()
    row = UsageEvent.objects.get(kind="tool_call")
    body = ToolCallBody.objects.get(call_id=row.details["call_id"])
    assert body.tool == "search"
    assert body.request["value"]["api_key"] == "[redacted]"
    assert "hunter2" not in str(body.request) and "abcdefghijklmnop" not in str(body.request)
    assert "login bug" in body.request["value"]["query"]
    assert body.response["value"]["content"][0]["type"] == "text"


def test_only_auditors_open_a_kept_body(client, member, owner, auditor, gateway, upstreams):
    _keep(member.organization)
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")
    _call(point, {"query": "login bug"})
    usage_flush()
    call_id = UsageEvent.objects.get(kind="tool_call").details["call_id"]
    url = reverse("tool_call_body", args=[member.organization.slug, call_id])

    client.force_login(auditor.user)
    events = client.get(reverse("usage_events", args=[member.organization.slug]))
    page = client.get(url)
    client.force_login(owner.user)
    as_owner = client.get(url)

    assert url in events.content.decode()
    assert page.status_code == 200 and "login bug" in page.content.decode()
    assert as_owner.status_code == 403


def test_bodies_are_purged_with_the_usage_events(member, gateway, upstreams):
    _keep(member.organization)
    point = endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")
    _call(point, {"query": "login bug"})
    usage_flush()
    long_ago = timezone.now() - timedelta(days=4000)
    ToolCallBody.objects.update(created_at=long_ago)
    UsageEvent.objects.update(created_at=long_ago)

    audit_retention_purge()

    assert not ToolCallBody.objects.exists()


def test_turning_it_on_is_audited_and_only_owners_may(client, owner, member):
    slug = owner.organization.slug
    client.force_login(member.user)
    refused = client.post(reverse("tool_call_bodies_setting", args=[slug]), {"keep": "on"})
    client.force_login(owner.user)
    client.post(reverse("tool_call_bodies_setting", args=[slug]), {"keep": "on"})

    owner.organization.refresh_from_db()
    assert refused.status_code == 403
    assert owner.organization.keep_tool_call_bodies is True
    assert AuditEvent.objects.filter(action="organization.tool_call_bodies_changed").exists()
