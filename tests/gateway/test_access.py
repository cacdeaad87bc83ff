"""Who may call the gateway, and what stops them: tokens, organizations, connections, the
upstream server's own refusal."""

import json

import anyio
import httpx2
import pytest
from django.test import Client as DjangoClient
from mcp import MCPError

from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import UsageEvent
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import NotAllowed
from orgconnectors.gateway.usage_buffer import usage_flush
from tests.gateway.conftest import GOOD_TOKEN, endpoint_for, gateway_client
from tests.messages_api.helpers import stored_credential
from tests.ops.test_metrics import TOKEN as METRICS_TOKEN
from tests.ops.test_metrics import sample, scrape

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _post(url: str, secret: str | None, body=INITIALIZE) -> httpx2.Response:
    headers = dict(HEADERS)
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx2.post(url, content=content, headers=headers, timeout=10)


def _call(point, tool="search", arguments=None):
    """The tool's result; a JSON-RPC error is raised as MCPError (outside the client, which
    would wrap it in an exception group)."""

    async def scenario():
        async with gateway_client(point.url, point.secret) as client:
            try:
                return await client.call_tool(tool, arguments or {"query": "q"})
            except MCPError as exc:
                return exc

    answer = anyio.run(scenario)
    if isinstance(answer, MCPError):
        raise answer
    return answer


@pytest.fixture
def point(member, gateway, upstreams):
    return endpoint_for(member, gateway, upstreams.url("streamable_http"), "streamable_http")


def test_a_request_without_a_token_gets_401_naming_the_resource_metadata(point, org):
    answer = _post(point.url, None)

    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    path = f"/mcp/{org.slug}/{point.connector.pk}"
    metadata = f"http://127.0.0.1:8000/.well-known/oauth-protected-resource{path}"
    assert f'resource_metadata="{metadata}"' in challenge


def test_an_unknown_token_gets_401(point):
    answer = _post(point.url, "oc_not-a-real-token")

    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_a_token_of_another_organization_gets_401(point, other_member, gateway):
    _token, foreign = api_token_create(
        membership=other_member, name="Other", actor=Actor.system("tests")
    )

    answer = _post(point.url, foreign)

    assert answer.status_code == 401
    assert "another organization" in answer.json()["error"]


def test_a_connector_of_another_organization_is_404(point, other_member, gateway, upstreams):
    foreign = endpoint_for(other_member, gateway, upstreams.url("streamable_http"), "sse")
    url = point.url.rsplit("/", 1)[0] + f"/{foreign.connector.pk}"

    answer = _post(url, point.secret)

    assert answer.status_code == 404


def test_a_token_without_the_mcp_scope_gets_403(point, member):
    _token, narrow = api_token_create(
        membership=member, name="Read only", actor=Actor.system("tests"), scopes=["read"]
    )

    answer = _post(point.url, narrow)

    assert answer.status_code == 403
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]


def test_an_auditors_token_cannot_get_the_mcp_scope(auditor):
    with pytest.raises(NotAllowed):
        api_token_create(
            membership=auditor, name="Auditor", actor=Actor.system("tests"), scopes=["mcp"]
        )


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/mcp/acme/not-a-number", INITIALIZE, 404),
        ("/mcp/acme/1/extra", INITIALIZE, 404),  # /mcp/acme is the organization endpoint
        ("", b"{not json", 400),
        ("", {"jsonrpc": "2.0", "id": 1}, 400),
    ],
)
def test_bad_input_gets_a_4xx(point, gateway, path, body, status):
    url = gateway.url + path if path else point.url

    answer = _post(url, point.secret, body)

    assert answer.status_code == status


def test_a_disconnected_member_is_cut_off(point, member):
    assert _call(point).is_error is False
    Connection.objects.filter(membership=member).update(state=Connection.State.DISABLED)

    with pytest.raises(MCPError) as refused:
        _call(point)

    assert "not connected" in refused.value.error.message
    usage_flush()
    outcomes = list(
        UsageEvent.objects.filter(kind="tool_call")
        .order_by("pk")
        .values_list("details__outcome", flat=True)
    )
    assert outcomes == ["ok", "denied"]


def test_a_removed_member_is_cut_off(point, member):
    assert _call(point).is_error is False
    member.delete()

    answer = _post(point.url, point.secret)

    assert answer.status_code == 401


def test_a_removed_connector_is_404(point):
    Connector.objects.filter(pk=point.connector.pk).delete()

    assert _post(point.url, point.secret).status_code == 404


def test_the_members_own_token_goes_upstream(member, gateway, upstreams):
    point = endpoint_for(
        member, gateway, upstreams.protected.url + "/mcp", "streamable_http", auth="oauth"
    )
    stored_credential(Connection.objects.get(connector=point.connector), token=GOOD_TOKEN)

    try:
        result = _call(point)
    except MCPError as exc:
        raise AssertionError(f"{exc.error!r}") from exc

    assert result.content[0].text == "found: q"


def test_an_upstream_401_asks_the_member_to_authorize_again(member, gateway, upstreams):
    point = endpoint_for(
        member, gateway, upstreams.protected.url + "/mcp", "streamable_http", auth="oauth"
    )
    connection = Connection.objects.get(connector=point.connector)
    stored_credential(connection, token="revoked-upstream")

    with pytest.raises(MCPError) as refused:
        _call(point)

    assert refused.value.error.data["needs_authorization"] is True
    assert "authorize" in refused.value.error.message
    connection.refresh_from_db()
    assert connection.state == Connection.State.NEEDS_AUTHORIZATION
    usage_flush()
    row = UsageEvent.objects.get(kind="tool_call")
    assert row.details["outcome"] == "upstream_error"


def test_tool_calls_are_listed_in_the_usage_api_and_counted_in_metrics(point, owner, settings):
    settings.ORGCONNECTORS_METRICS_TOKEN = METRICS_TOKEN
    name, seconds = "orgconnectors_gateway_tool_calls", "orgconnectors_gateway_tool_call_seconds"
    before = scrape(DjangoClient())
    _call(point)
    usage_flush()
    _token, secret = api_token_create(membership=owner, name="Audit", actor=Actor.system("t"))

    answer = DjangoClient().get(
        "/api/v1/orgs/acme/usage-events?kind=tool_call",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert answer.status_code == 200
    [event] = answer.json()["events"]
    assert event["kind"] == "tool_call"
    assert event["connector_id"] == point.connector.pk
    assert event["details"]["tool"] == "search"
    after = scrape(DjangoClient())
    assert sample(after, name, f"{name}_total", outcome="ok") == (
        sample(before, name, f"{name}_total", outcome="ok") + 1
    )
    assert sample(after, seconds, f"{seconds}_count", outcome="ok") == (
        sample(before, seconds, f"{seconds}_count", outcome="ok") + 1
    )
