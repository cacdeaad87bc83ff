"""The token handed out works at a real MCP server behind a real authorization server (over
https, as the Messages API requires), and is refreshed first, once, when about to expire."""

from datetime import timedelta

import anyio
import pytest
import time_machine
from django.db import connection as db_connection
from django.test import Client as DjangoClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from orgconnectors.api.tokens import api_token_create
from orgconnectors.egress import build_mcp_http_client
from orgconnectors.oauth.models import OAuthCredential
from tests.messages_api.helpers import CONFIG, assert_valid_messages_api_config

URL = CONFIG.format(org="acme")


async def _list_tools(url: str, token: str) -> list[str]:
    http = build_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        result = await client.list_tools()
    return [tool.name for tool in result.tools]


def _api_key(member, actor) -> str:
    _token, key = api_token_create(membership=member, name="app", actor=actor(member))
    return key


def _config(api_key: str) -> dict:
    response = DjangoClient(headers={"Authorization": f"Bearer {api_key}"}).get(URL)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_the_protected_server_accepts_the_authorization_token_handed_out(
    member, oauth_connector, https_auth_server, authorize, actor
):
    authorize(member, oauth_connector)

    config = _config(_api_key(member, actor))

    assert_valid_messages_api_config(config)
    (server,) = config["mcp_servers"]
    assert server["url"] == https_auth_server.mcp_url
    assert server["name"] == "tracker"
    assert config["tools"] == [{"type": "mcp_toolset", "mcp_server_name": "tracker"}]
    assert anyio.run(_list_tools, server["url"], server["authorization_token"]) == ["search"]
    assert https_auth_server.provider.refresh_calls == 0


@pytest.mark.django_db
def test_a_token_expiring_within_a_minute_is_refreshed_once_before_it_is_handed_out(
    member, oauth_connector, https_auth_server, authorize, actor
):
    connection = authorize(member, oauth_connector).connection
    credential = OAuthCredential.objects.get(connection=connection)
    api_key = _api_key(member, actor)

    with time_machine.travel(credential.expires_at - timedelta(seconds=30), tick=False):
        first = _config(api_key)
        second = _config(api_key)

    assert https_auth_server.provider.refresh_calls == 1
    token = first["mcp_servers"][0]["authorization_token"]
    assert second["mcp_servers"][0]["authorization_token"] == token
    credential.refresh_from_db()
    assert credential.generation == 2
    assert first["expires_at"].startswith(credential.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert anyio.run(_list_tools, https_auth_server.mcp_url, token) == ["search"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    db_connection.vendor != "postgresql",
    reason="the in-memory SQLite of tests fails at once on a lock instead of waiting",
)
def test_concurrent_requests_near_expiry_make_exactly_one_refresh(
    member, oauth_connector, https_auth_server, authorize, actor, run_concurrently
):
    connection = authorize(member, oauth_connector).connection
    credential = OAuthCredential.objects.get(connection=connection)
    api_key = _api_key(member, actor)

    with time_machine.travel(credential.expires_at - timedelta(seconds=30), tick=False):
        answers = run_concurrently(*[lambda: _config(api_key)] * 4)

    assert not [a for a in answers if isinstance(a, BaseException)], answers
    assert https_auth_server.provider.refresh_calls == 1
    tokens = {a["mcp_servers"][0]["authorization_token"] for a in answers}
    assert len(tokens) == 1
    assert anyio.run(_list_tools, https_auth_server.mcp_url, tokens.pop()) == ["search"]
