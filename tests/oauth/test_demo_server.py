"""The demo's OAuth server (orgconnectors/demo/oauth_server.py) with the project's real flow:
authorization start, the consent page, the callback, the stored token at the MCP server, and a
refresh that rotates the refresh token."""

from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.demo.oauth_server import ACCESS_TTL, DemoProvider, oauth_app
from orgconnectors.egress import build_mcp_http_client
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.refresh import credential_refresh
from orgconnectors.oauth.refresh_on_demand import credential_fresh_access_token
from orgconnectors.oauth.refresh_outcomes import Outcome
from orgconnectors.oauth.services import oauth_authorization_start
from orgconnectors.oauth.vault import refresh_token_of
from tests.factories import ConnectorFactory
from tests.oauth.conftest import browser_for, serve

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_server():
    provider = DemoProvider()
    base_url, server, thread = serve(lambda base: oauth_app(base, provider))
    yield base_url, provider
    server.should_exit = True
    thread.join(timeout=5)


async def _call_list_tasks(url: str, token: str) -> tuple[list[str], str]:
    http = build_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool("list_tasks", {})
    return tools, result.content[0].text


def test_a_member_consents_at_the_demo_server_and_the_token_works_and_refreshes(
    org, member, demo_server, actor, django_capture_on_commit_callbacks
):
    base_url, provider = demo_server
    connector = ConnectorFactory(
        organization=org, name="Tasks", url=f"{base_url}/mcp", auth=Connector.Auth.OAUTH
    )
    browser = browser_for(member)
    browser.get("/")
    connection_enable(membership=member, connector=connector, actor=actor(member))
    authorize_url = oauth_authorization_start(
        membership=member,
        connector=connector,
        session_key=browser.session.session_key,
        actor=actor(member),
    )

    # The person's browser: the authorization server shows the consent page, they click Allow.
    asked = httpx.get(authorize_url)
    assert asked.status_code == 302, asked.text
    page = httpx.get(base_url + asked.headers["location"])
    assert page.status_code == 200 and "Allow" in page.text
    request_id = dict(httpx.URL(asked.headers["location"]).params)["request"]
    allowed = httpx.post(f"{base_url}/consent", data={"request": request_id, "decision": "allow"})
    assert allowed.status_code == 302, allowed.text
    back = urlsplit(allowed.headers["location"])
    with django_capture_on_commit_callbacks(execute=True):
        landing = browser.get(f"{back.path}?{back.query}")

    assert landing.status_code == 302
    connection = Connection.objects.get(membership=member, connector=connector)
    assert connection.state == Connection.State.ENABLED
    credential = OAuthCredential.objects.get(connection=connection)
    assert round((credential.expires_at - credential.obtained_at).total_seconds()) == ACCESS_TTL
    token = credential_fresh_access_token(connection=connection)
    tools, tasks = anyio.run(_call_list_tasks, f"{base_url}/mcp", token)
    assert tools == ["list_tasks", "add_task"]
    assert "TLS certificate" in tasks

    old_refresh = refresh_token_of(credential)
    assert credential_refresh(credential_id=credential.pk) is Outcome.REFRESHED
    credential.refresh_from_db()
    assert refresh_token_of(credential) != old_refresh
    assert old_refresh not in provider.refresh  # rotated: the old one no longer works
    tools, _tasks = anyio.run(
        _call_list_tasks, f"{base_url}/mcp", credential_fresh_access_token(connection=connection)
    )
    assert tools == ["list_tasks", "add_task"]


def test_the_consent_page_refuses_an_unknown_request(demo_server):
    base_url, _provider = demo_server

    answer = httpx.post(f"{base_url}/consent", data={"request": "nope", "decision": "allow"})

    assert answer.status_code == 400
    assert "start again" in answer.text
