"""A human in the loop through the real gateway: a call to a tool that needs approval waits
until an owner allows or denies it, or is refused when nobody answers in time."""

import anyio
import pytest
from mcp import MCPError

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.call_approvals import (
    approval_requirement_set,
    call_approval_decide,
)
from orgconnectors.connectors.models import CallApproval
from orgconnectors.core.actor import Actor
from orgconnectors.organizations.models import Organization
from tests.gateway.conftest import endpoint_for, gateway_client
from tests.servers import wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def point(member, gateway, upstreams):
    point = endpoint_for(
        member, gateway, upstreams.url("streamable_http"), "streamable_http", name="Issues"
    )
    approval_requirement_set(
        connector=point.connector, tool_name="search", required=True, actor=Actor.system("t")
    )
    return point


def _decide_when_pending(owner, allow: bool) -> CallApproval:
    approval = wait_for(
        lambda: CallApproval.objects.filter(state="pending").first(),
        timeout=10,
        what="the call waiting for approval",
    )
    return call_approval_decide(
        approval=approval, allow=allow, actor=Actor.system("tests", user=owner.user)
    )


def _call_while(point, decide=None):
    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            outcome = {}

            async def call():
                try:
                    outcome["result"] = await client.call_tool(
                        "search", {"query": "q", "api_key": "sk-secret-value-123"}
                    )
                except MCPError as exc:
                    outcome["error"] = exc

            async with anyio.create_task_group() as group:
                group.start_soon(call)
                if decide is not None:
                    await anyio.to_thread.run_sync(decide)
            return outcome

    return anyio.run(scenario)


def test_an_allowed_call_waits_for_the_approver_then_goes_through(point, owner):
    outcome = _call_while(point, lambda: _decide_when_pending(owner, True))

    assert outcome["result"].content[0].text == "found: q"
    approval = CallApproval.objects.get()
    assert approval.state == "allowed"
    assert approval.decided_by == owner.user
    assert approval.arguments["query"] == "q"
    assert approval.arguments["api_key"] == "[redacted]"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"tool_call.approval_requested", "tool_call.approved"} <= actions


def test_a_denied_call_is_refused(point, owner):
    outcome = _call_while(point, lambda: _decide_when_pending(owner, False))

    assert "denied this call of 'search'" in outcome["error"].error.message
    assert CallApproval.objects.get().state == "denied"
    assert AuditEvent.objects.filter(action="tool_call.approval_denied").count() == 1


def test_a_call_nobody_answers_in_time_is_refused(point):
    Organization.objects.filter(pk=point.connector.organization_id).update(
        approval_timeout_seconds=1
    )

    outcome = _call_while(point)

    assert "No approver of your organization answered" in outcome["error"].error.message
    assert CallApproval.objects.get().state == "timed_out"
    assert AuditEvent.objects.filter(action="tool_call.timeout_refused").count() == 1


def test_approvers_see_the_waiting_call_on_the_live_list(point, owner, member):
    from django.test import Client as DjangoClient
    from django.urls import reverse

    web = DjangoClient()
    web.force_login(owner.user)

    def look_then_allow():
        wait_for(lambda: CallApproval.objects.exists(), timeout=10, what="the waiting call")
        page = web.get(reverse("approval_list", args=["acme"]), HTTP_HX_REQUEST="true")
        html = page.content.decode()
        approval = CallApproval.objects.get()
        web.post(reverse("approval_decide", args=["acme", approval.pk]), {"decision": "allow"})
        return html

    seen = {}
    outcome = _call_while(point, lambda: seen.setdefault("html", look_then_allow()))

    assert "Issues · search" in seen["html"]
    assert "member@acme.test" in seen["html"]
    assert "[redacted]" in seen["html"] and "sk-secret-value-123" not in seen["html"]
    assert outcome["result"].is_error is False
