"""A member's authorization, run headlessly for `manage.py mcp_conformance_client`.

The conformance suite's authorization servers redirect at once, with no sign-in page, so the
whole of a member's authorization can run in one process through the project's own code:
discovery, registration, the authorization request, the callback, the token exchange and the
vault. It runs in a throwaway organization (member, connector) that is deleted afterwards.
"""

import asyncio
import json
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import mcp_types as types
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import resolve
from mcp import Client
from mcp.client.auth.utils import extract_scope_from_www_auth
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.services import connector_register
from orgconnectors.core.actor import Actor
from orgconnectors.egress import build_client
from orgconnectors.egress.client import build_mcp_http_client
from orgconnectors.health.outcomes import ProbeResult
from orgconnectors.health.pool import config_from_settings, probe_once
from orgconnectors.health.probe import SSE, STREAMABLE_HTTP, TRANSPORTS, ProbeTarget
from orgconnectors.oauth.clients import callback_url
from orgconnectors.oauth.errors import OAuthError
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.services import (
    connection_step_up,
    oauth_callback_complete,
    oauth_connection_enable,
)
from orgconnectors.oauth.vault import access_token_of
from orgconnectors.organizations.models import Membership, Organization, Plan

ACTOR = Actor.system("conformance client")
MEMBER_EMAIL = "conformance@example.invalid"
UNAUTHORIZED = "(401)"
SHOWN_TOOLS = 10  # of a long list, the first ones named; the count says the rest


class HeadlessAuthorizationFailed(Exception):
    """The authorization did not complete; the message says where it stopped."""


def context_credentials() -> tuple[str, str]:
    """The client ID and secret a scenario pre-registered, from MCP_CONFORMANCE_CONTEXT."""
    raw = settings.MCP_CONFORMANCE_CONTEXT
    context = json.loads(raw) if raw else {}
    return str(context.get("client_id", "")), str(context.get("client_secret", ""))


@contextmanager
def _throwaway_member(url: str, transport: str):
    """The dedicated "conformance" organization and member (kept: their audit trail is
    append-only) with a connector for this run only, removed afterwards."""
    client_id, client_secret = context_credentials()
    plan, _ = Plan.objects.get_or_create(
        code="conformance",
        defaults={
            "name": "Conformance",
            "kind": Plan.Kind.ORGANIZATION,
            "max_enabled_connections": 5,
            "owners_register_connectors": True,
        },
    )
    organization, _ = Organization.objects.get_or_create(
        slug="conformance", defaults={"name": "Conformance", "plan": plan}
    )
    user = get_user_model().objects.filter(email=MEMBER_EMAIL).first()
    if user is None:
        user = get_user_model().objects.create_user(email=MEMBER_EMAIL)
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Membership.Role.MEMBER}
    )
    try:
        # As an owner registers one: the URL checked, the client secret encrypted, audited.
        connector = connector_register(
            organization=organization,
            actor=ACTOR,
            name=f"Conformance server {secrets.token_hex(3)}",
            url=url,
            transport=transport,
            auth=Connector.Auth.OAUTH,
            oauth_client_id=client_id,
            oauth_client_secret=client_secret,
        )
    except ConnectorError as refused:
        raise HeadlessAuthorizationFailed(
            f"The connector was not registered: {refused.message}"
        ) from None
    try:
        yield membership, connector
    finally:
        connector.delete()


def _follow(authorize_url: str, membership: Membership, session_key: str) -> None:
    """Go to the authorization server as the member's browser would, and come back to the
    callback with what it sent: the redirect to our callback is read, not followed."""
    with build_client(timeout=10.0, follow_redirects=False) as http:
        response = http.get(authorize_url)
    location = response.headers.get("location", "")
    if not response.is_redirect or not location.startswith(callback_url()):
        raise HeadlessAuthorizationFailed(
            f"The authorization server answered {response.status_code} without sending the "
            "member back to the callback."
        )
    back = urlsplit(location)
    params = {key: values[0] for key, values in parse_qs(back.query).items()}
    oauth_callback_complete(
        state=params.get("state", ""),
        code=params.get("code", ""),
        error=params.get("error", ""),
        iss=params.get("iss"),
        callback_key=resolve(back.path).kwargs.get("issuer_key", ""),
        user=membership.user,
        session_key=session_key,
        actor=ACTOR,
    )


@dataclass(frozen=True)
class ToolCall:
    """What calling the server's first tool came to."""

    refused: str | None = None  # the scope a 403 insufficient_scope named, or UNAUTHORIZED
    tool: str = ""  # the tool called; empty when the server lists none
    is_error: bool = False  # it answered with an error result (it wanted arguments, say)


def _open(url: str, transport: str, http: httpx2.AsyncClient, timeout: float):
    """The transport the probe found working, through the guarded client either way: a server
    that offers only legacy HTTP+SSE answers Streamable HTTP's POST with 405."""
    if transport == SSE:
        return sse_client(
            url,
            timeout=timeout,
            sse_read_timeout=timeout,
            httpx_client_factory=lambda headers=None, timeout=None, auth=None: http,
        )
    return streamable_http_client(url, http_client=http)


async def _call_first_tool(url: str, token: str, transport: str) -> ToolCall:
    """Call the server's first tool as an app would, over `transport` (Streamable HTTP unless
    it is SSE)."""
    timeout = config_from_settings().timeout
    refused: list[str] = []
    # A refusal ends the call at once: over SSE the SDK only logs a POST's error status, and
    # the call would wait out its whole read timeout for an answer that never comes.
    stop = anyio.CancelScope()

    async def watch(response: httpx2.Response) -> None:
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code == 403 and "insufficient_scope" in challenge:
            refused.append(extract_scope_from_www_auth(response) or "")
            stop.cancel()
        elif response.status_code == 401 and not token:
            refused.append(UNAUTHORIZED)
            stop.cancel()

    headers = {"Authorization": f"Bearer {token}"} if token else None
    http = build_mcp_http_client(headers=headers, timeout=httpx2.Timeout(timeout))
    http.event_hooks["response"].append(watch)
    client = Client(
        _open(url, transport, http, timeout),
        read_timeout_seconds=timeout,
        client_info=types.Implementation(name="orgconnectors", version="0.1"),
    )
    called = ToolCall()
    try:
        with stop:
            async with client:
                tools = await client.list_tools()
                if tools.tools:
                    name = tools.tools[0].name
                    result = await client.call_tool(name, {})
                    called = ToolCall(tool=name, is_error=bool(result.is_error))
    except Exception:
        if refused:
            return ToolCall(refused=refused[0])
        raise
    finally:
        await http.aclose()
    return ToolCall(refused=refused[0]) if refused else called


def first_tool_needs_authorization(url: str, transport: str = STREAMABLE_HTTP) -> bool:
    """Whether calling the first tool with no token is answered 401, as servers that let
    anyone list their tools but not call them do; over the transport the probe found."""
    try:
        return asyncio.run(_call_first_tool(url, "", transport)).refused == UNAUTHORIZED
    except Exception:  # noqa: BLE001 - any other failure is the probe's to report, not ours
        return False


def _token(connection) -> str:
    return access_token_of(OAuthCredential.objects.get(connection=connection))


def _found(probed: ProbeResult) -> str:
    """What the probe with the member's token found: its outcome, the transport that answered
    and the tools it listed."""
    line = f"Probed with the stored token: {probed.outcome.label}"
    if probed.transport:
        line += f" over {Connector.Transport(probed.transport).label}"
    if probed.tools:
        names = [tool["name"] for tool in probed.tools[:SHOWN_TOOLS]]
        more = len(probed.tools) - len(names)
        line += f"; {len(probed.tools)} tools: {', '.join(names)}"
        line += f" and {more} more" if more else ""
    if probed.error:
        line += f" ({probed.error})"
    return line + "."


def _called(called: ToolCall) -> str:
    if not called.tool:
        return "The server lists no tool to call."
    if called.is_error:
        return f"Called the first tool, {called.tool}: it answered with an error."
    return f"Called the first tool, {called.tool}."


def authorize_and_call(url: str, transport: str) -> list[str]:
    """Run the member's authorization, then call the first tool (stepping up once if asked).
    Returns what happened, line by line."""
    done: list[str] = []
    session_key = secrets.token_urlsafe(24)
    with _throwaway_member(url, transport) as (membership, connector):
        try:
            enabled = oauth_connection_enable(
                membership=membership, connector=connector, session_key=session_key, actor=ACTOR
            )
            if not enabled.authorize_url:
                raise HeadlessAuthorizationFailed(enabled.reason or "No authorization to start.")
            _follow(enabled.authorize_url, membership, session_key)
            connection = enabled.connection
            done.append("Authorized: tokens stored in the vault.")
            probed = probe_once(
                ProbeTarget(url=url, transport=transport, access_token=_token(connection))
            )
            done.append(_found(probed))
            # Over what answered the probe; over the connector's choice if nothing did.
            over = probed.transport or (transport if transport in TRANSPORTS else STREAMABLE_HTTP)
            called = asyncio.run(_call_first_tool(url, _token(connection), over))
            if called.refused is not None:
                scope = called.refused
                done.append(f"The server asked for more scope: {scope or '(none named)'}.")
                step_up_url = connection_step_up(
                    membership=membership,
                    connector=connector,
                    scope=scope,
                    actor=ACTOR,
                    session_key=session_key,
                )
                _follow(step_up_url, membership, session_key)
                done.append("Authorized again with the scope asked for.")
                called = asyncio.run(_call_first_tool(url, _token(connection), over))
                if called.refused is not None:
                    raise HeadlessAuthorizationFailed("The server still refuses the scope.")
            done.append(_called(called))
        except OAuthError as failure:
            raise HeadlessAuthorizationFailed(failure.message) from None
    return done
