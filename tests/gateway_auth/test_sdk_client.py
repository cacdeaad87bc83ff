"""The mcp SDK's own OAuth client (OAuthClientProvider), as Claude Code and the MCP Inspector
use it: from the gateway's 401 it discovers the metadata, registers, sends the member to the
consent page with PKCE and the resource, and then calls tools through the gateway."""

import asyncio

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from orgconnectors.gateway.authorization.access_tokens import member_for_access_token
from orgconnectors.messages_api.services import messages_api_config
from orgconnectors.organizations.models import Organization
from orgconnectors.organizations.organization_settings import organization_settings_update
from orgconnectors.organizations.services import membership_remove
from tests.gateway_auth.conftest import endpoint_for, upstream_app
from tests.loopback import serve_asgi

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CALLBACK = "http://127.0.0.1:33418/callback"


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens) -> None:
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info) -> None:
        self.client_info = client_info


class ConsentingPerson:
    """The redirect and callback handlers: the member's browser allows the client."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.back: dict[str, str] = {}

    async def redirect(self, authorization_url: str) -> None:
        self.back = await anyio.to_thread.run_sync(self.browser.consent, authorization_url)

    async def callback(self) -> AuthorizationCodeResult:
        return AuthorizationCodeResult(code=self.back["code"], state=self.back.get("state"))


def provider(url: str, person: ConsentingPerson, storage: MemoryStorage) -> OAuthClientProvider:
    return OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="claude-code",
            redirect_uris=[CALLBACK],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=person.redirect,
        callback_handler=person.callback,
    )


async def list_and_call(url: str, auth: OAuthClientProvider):
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        client = Client(
            streamable_http_client(url, http_client=http),
            mode="auto",
            cache=None,
            client_info=types.Implementation(name="claude-code", version="2.0"),
        )
        async with client:
            listed = await client.list_tools()
            result = await client.call_tool("search", {"query": "gateway"})
            return [tool.name for tool in listed.tools], result


def test_the_sdk_client_authorizes_and_calls_a_tool_through_the_gateway(endpoint, member, browser):
    person = ConsentingPerson(browser(member))
    storage = MemoryStorage()

    names, result = asyncio.run(
        list_and_call(endpoint.url, provider(endpoint.url, person, storage))
    )

    assert names == ["search"]  # delete_issue is blocked by the organization
    assert not result.is_error
    assert "found: gateway" in result.content[0].text
    assert "Tracker" in person.browser.consent_page
    token = storage.tokens.access_token
    assert member_for_access_token(token=token, resource=endpoint.url) == member


def test_a_removed_member_is_cut_off_at_once(endpoint, member, owner, browser, actor):
    person = ConsentingPerson(browser(member))
    storage = MemoryStorage()
    asyncio.run(list_and_call(endpoint.url, provider(endpoint.url, person, storage)))
    token = storage.tokens.access_token

    membership_remove(membership=member, actor=actor(owner))

    assert member_for_access_token(token=token, resource=endpoint.url) is None
    refused = httpx2.post(
        endpoint.url,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 401
    assert "unknown, expired or revoked" in refused.headers["www-authenticate"]


async def call_with_token(url: str, token: str):
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        client = Client(
            streamable_http_client(url, http_client=http),
            mode="auto",
            cache=None,
            client_info=types.Implementation(name="messages-api-app", version="1.0"),
        )
        async with client:
            return await client.call_tool("search", {"query": "handed out"})


@pytest.fixture(scope="module")
def tls_upstream(authority):
    served = serve_asgi(
        upstream_app,
        tls=(str(authority.cert_file), str(authority.key_file)),
        name="upstream MCP server over https",
    )
    yield served
    served.stop()


def test_a_configuration_handed_out_through_the_gateway_calls_tools_there(
    base_url, member, actor, tls_upstream
):
    # The Messages API takes https servers only: the upstream is one, of the test authority.
    endpoint = endpoint_for(member, tls_upstream.url)
    organization_settings_update(
        organization=member.organization,
        member_apps_reach=Organization.MemberAppsReach.GATEWAY,
        actor=actor(member),
    )

    config = messages_api_config(membership=member, actor=actor(member))
    server = config["mcp_servers"][0]
    result = asyncio.run(call_with_token(server["url"], server["authorization_token"]))

    assert server["url"] == endpoint.url
    assert "found: handed out" in result.content[0].text
