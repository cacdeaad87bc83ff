"""Rows for a member's OAuth connections without running the flow (the round trip runs it), and
the check every configuration answer goes through."""

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import jsonschema
from anthropic.types import AnthropicBetaParam
from anthropic.types.beta import (
    BetaMCPToolParamParam,
    BetaMCPToolsetParam,
    BetaRequestMCPServerURLDefinitionParam,
)
from django.utils import timezone
from pydantic import TypeAdapter

from orgconnectors.encryption import encrypt
from orgconnectors.oauth.models import OAuthClient, OAuthCredential

SCHEMA = json.loads((Path(__file__).parent / "messages_api_schema.json").read_text())
CONFIG = "/api/v1/orgs/{org}/messages-api-config"


def stored_credential(connection, *, token: str = "access-token", expires_in: int | None = 600):
    connector = connection.connector
    client, _ = OAuthClient.objects.get_or_create(
        connector=connector,
        issuer=f"https://auth.{connector.pk}.example.com",
        defaults={
            "kind": OAuthClient.Kind.DYNAMIC,
            "client_id": "client",
            "authorization_endpoint": "https://auth.example.com/authorize",
            "token_endpoint": "https://auth.example.com/token",
        },
    )
    now = timezone.now()
    return OAuthCredential.objects.create(
        connection=connection,
        client=client,
        access_token_encrypted=encrypt(token),
        refresh_token_encrypted=encrypt("refresh-" + token),
        obtained_at=now,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        next_refresh_at=now + timedelta(days=1),
    )


# The anthropic SDK's own request types (its TypedDicts), checked by pydantic; no network.
SDK_SERVER = TypeAdapter(BetaRequestMCPServerURLDefinitionParam)
SDK_TOOLSET = TypeAdapter(BetaMCPToolsetParam)
SDK_TOOL = TypeAdapter(BetaMCPToolParamParam)
SDK_BETA = TypeAdapter(AnthropicBetaParam)
PINNING_BETA, ALLOWLIST_BETA = "mcp-client-2026-09-15", "mcp-client-2025-11-20"


def _materialized(value):
    """The validated value with pydantic's lazy iterators (SDK fields typed Iterable) run."""
    if isinstance(value, dict):
        return {key: _materialized(item) for key, item in value.items()}
    if isinstance(value, list | tuple | Iterator) or type(value).__name__ == "ValidatorIterator":
        return [_materialized(item) for item in value]
    return value


def assert_sdk_accepts(adapter: TypeAdapter, value) -> None:
    """Valid for the SDK's type, and nothing in it unknown to it or coerced: pydantic drops keys
    a TypedDict does not declare and converts types, so what comes out must equal what went in."""
    validated = _materialized(adapter.validate_python(value, strict=True))
    assert validated == value, f"not exactly a {adapter.core_schema.get('cls', adapter)}: {value}"


def assert_valid_messages_api_config(body: dict) -> None:
    """The JSON Schema written from the reference, the anthropic SDK's request types for the
    beta the answer names, and what neither can say."""
    jsonschema.validate(body, SCHEMA)
    beta = body["headers"]["anthropic-beta"]
    assert SDK_BETA.validate_python(beta) == beta
    for server in body["mcp_servers"]:
        assert_sdk_accepts(SDK_SERVER, server)
        assert "tool_configuration" not in server, "the deprecated beta's field"
    for toolset in body["tools"]:
        assert_sdk_accepts(SDK_TOOLSET, toolset)
        pinned = toolset.get("tools")
        if beta == ALLOWLIST_BETA:
            assert pinned is None, f"{ALLOWLIST_BETA} cannot pin a listing"
        for tool in pinned or []:
            assert_sdk_accepts(SDK_TOOL, tool)
        if pinned is not None:
            pinned_names = [tool["name"] for tool in pinned]
            assert len(pinned_names) == len(set(pinned_names)), "a pinned name twice"
            assert set(toolset.get("configs") or {}) <= set(pinned_names), (
                "configs name only pinned tools"
            )
    names = [server["name"] for server in body["mcp_servers"]]
    assert len(names) == len(set(names)), "server names must be unique"
    named = [tool["mcp_server_name"] for tool in body["tools"] if tool["type"] == "mcp_toolset"]
    assert sorted(named) == sorted(names), "each server is named by exactly one mcp_toolset"
