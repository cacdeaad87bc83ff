"""Rows for a member's OAuth connections without running the flow (the round trip runs it)."""

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
from django.utils import timezone

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


def assert_valid_messages_api_config(body: dict) -> None:
    """The JSON Schema written from the reference, plus what a schema cannot say."""
    jsonschema.validate(body, SCHEMA)
    names = [server["name"] for server in body["mcp_servers"]]
    assert len(names) == len(set(names)), "server names must be unique"
    named = [tool["mcp_server_name"] for tool in body["tools"] if tool["type"] == "mcp_toolset"]
    assert sorted(named) == sorted(names), "each server is named by exactly one mcp_toolset"
