"""The whole of a leaver's cut-off, every peer real and on loopback: a member connected to an
OAuth-protected SDK MCP server (with its own authorization server) calls a tool through the
gateway with the gateway's access token; the identity provider deactivates them through the
organization's SCIM endpoint; their next call through the gateway is refused, their connection is
gone, and the upstream authorization server received the RFC 7009 revocation of their tokens."""

import asyncio

import httpx2
import pytest

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.tool_definitions import definition
from orgconnectors.identity.models import ScimUser
from orgconnectors.oauth.clients import callback_url
from orgconnectors.oauth.vault import access_token_of, refresh_token_of
from orgconnectors.organizations.models import Membership
from tests.factories import ConnectorFactory
from tests.gateway_auth.test_sdk_client import (
    ConsentingPerson,
    MemoryStorage,
    list_and_call,
    provider,
)

# The OAuth tests' real authorization server (the SDK's auth routes in front of a protected SDK
# MCP server), their real authorization flow, and tasks run inline as one process runs them.
from tests.oauth.conftest import auth_server, authorize, eager_celery  # noqa: F401
from tests.scim.helpers import deactivate_over_http

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The protected server's one tool, as its tools/list gives it and an owner approved it.
SEARCH = definition(
    {
        "name": "search",
        "description": "Search the issue tracker.",
        "inputSchema": {
            "type": "object",
            "properties": {"query": {"title": "Query", "type": "string"}},
            "required": ["query"],
            "title": "searchArguments",
        },
    }
)


@pytest.fixture
def upstream_authorization_server(auth_server, base_url):  # noqa: F811
    """The authorization server, forgetting all but its pre-registered client, which sends
    people back to this test's orgconnectors (base_url is the live application's)."""
    auth_server.provider.callback_url = lambda: callback_url(auth_server.base_url)
    auth_server.provider.reset()
    return auth_server


def _gateway_url(base_url: str, connector: Connector) -> str:
    return f"{base_url}/mcp/{connector.organization.slug}/{connector.pk}"


def test_a_scim_deactivation_cuts_off_the_gateway_and_revokes_upstream_tokens(
    base_url,
    member,
    browser,
    upstream_authorization_server,
    authorize,  # noqa: F811
):
    server = upstream_authorization_server
    connector = ConnectorFactory(
        organization=member.organization,
        name="Tracker",
        url=server.mcp_url,
        transport=Connector.Transport.STREAMABLE_HTTP,
        detected_transport=Connector.Transport.STREAMABLE_HTTP,
        auth=Connector.Auth.OAUTH,
        status=Connector.Status.HEALTHY,
        discovered_tools=[SEARCH],
        approved_tools=[SEARCH],
        tool_listing_version=1,
    )
    connection = authorize(member, connector).connection
    credential = connection.oauth_credential
    upstream_tokens = {access_token_of(credential), refresh_token_of(credential)}
    url = _gateway_url(base_url, connector)
    storage = MemoryStorage()
    names, result = asyncio.run(
        list_and_call(url, provider(url, ConsentingPerson(browser(member)), storage))
    )
    assert names == ["search"]
    assert not result.is_error, result
    assert result.content[0].text == "gateway"  # the upstream's answer, through the gateway
    gateway_token = storage.tokens.access_token

    deactivated = deactivate_over_http(base_url, member)

    assert deactivated["active"] is False
    refused = httpx2.post(
        url,
        json={
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "search", "arguments": {"query": "still there?"}},
        },
        headers={
            "Authorization": f"Bearer {gateway_token}",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert refused.status_code == 401
    assert not Connection.objects.filter(pk=connection.pk).exists()
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert ScimUser.objects.get(pk=deactivated["id"]).active is False
    # What the upstream authorization server itself recorded at its revocation endpoint.
    assert set(server.provider.revoked) == upstream_tokens
    assert any(path == "/revoke" for path, _seen in server.provider.seen)
