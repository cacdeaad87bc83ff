"""API tokens through the API (list, create shown once, revoke own), and the migration endpoint."""

from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import token_hash
from tests.api.conftest import ApiClient, session_client, token_client
from tests.responses import api_error

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/orgs/acme/api-tokens"
MIGRATE = "/api/v1/tools/migrate-mcp-request"


def test_a_token_created_through_the_api_is_shown_once_and_stored_as_a_hash(member, actor):
    api = token_client(member, actor=actor)

    created = api.post(TOKENS, {"name": "Deploy bot", "expires_in_days": 30})

    assert created.status_code == 201, created.content
    body = created.json()
    stored = ApiToken.objects.get(pk=body["id"])
    assert body["token"].startswith("oc_")
    assert stored.token_hash == token_hash(body["token"])
    assert body["token"] not in (stored.token_hash, stored.prefix)
    assert body["status"] == "active"
    assert abs(stored.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    listed = api.get(TOKENS).json()
    assert {t["name"] for t in listed} == {"Test script", "Deploy bot"}
    assert all("token" not in t for t in listed)
    assert ApiClient(Client(), body["token"]).get("/api/v1/orgs/acme").status_code == 200


def test_a_token_may_expire_at_a_given_time_read_as_utc_without_a_zone(member, actor):
    api = token_client(member, actor=actor)

    # Within the creating token's own 90 days.
    when = (timezone.now() + timedelta(days=10)).replace(microsecond=0, tzinfo=None)

    body = api.post(TOKENS, {"name": "Nightly", "expires_at": when.isoformat()}).json()

    assert ApiToken.objects.get(pk=body["id"]).expires_at == when.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Old", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        (
            {"name": "Both", "expires_at": "2031-01-01T00:00:00Z", "expires_in_days": 3},
            "expires_at",
        ),
        ({"name": "Long", "expires_in_days": 366}, "expires_in_days"),
        ({"name": "Nobody", "scopes": ["everything"]}, "scopes.0"),
        ({"name": "Nothing", "scopes": []}, "scopes"),
        ({"name": "Typo", "expires_in_day": 3}, "expires_in_day"),
    ],
)
def test_an_invalid_token_request_names_the_field(member, actor, payload, field):
    response = token_client(member, actor=actor).post(TOKENS, payload)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_last_used_and_expiry_are_listed(member, actor):
    api = token_client(member, actor=actor)
    ApiToken.objects.filter(user=member.user).update(expires_at=timezone.now() + timedelta(days=1))

    (listed,) = api.get(TOKENS).json()

    assert listed["last_used_at"] is not None
    assert listed["expires_at"] is not None
    assert listed["status"] == "active"


def test_revoking_a_token_stops_it_at_once(member, actor):
    api = token_client(member, actor=actor)
    other = api.post(TOKENS, {"name": "Spare"}).json()

    assert api.delete(f"{TOKENS}/{other['id']}").status_code == 204
    assert ApiClient(Client(), other["token"]).get("/api/v1/orgs/acme").status_code == 401
    (spare,) = [t for t in api.get(TOKENS).json() if t["id"] == other["id"]]
    assert spare["status"] == "revoked"


def test_nobody_revokes_someone_elses_token(owner, member, actor):
    members_token = token_client(member, actor=actor)
    member_token_id = ApiToken.objects.get(user=member.user).pk

    response = session_client(owner).delete(f"{TOKENS}/{member_token_id}")

    assert response.status_code == 404
    assert members_token.get("/api/v1/orgs/acme").status_code == 200


def test_the_migration_endpoint_answers_the_new_request_and_its_changes(other_member, actor):
    old = {
        "model": "claude-sonnet-4-5",
        "mcp_servers": [
            {"type": "url", "url": "https://a.example/mcp", "name": "a",
             "tool_configuration": {"enabled": False}},
        ],
    }  # fmt: skip

    response = token_client(other_member, actor=actor).post(MIGRATE, old)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["request"] == {
        "model": "claude-sonnet-4-5",
        "mcp_servers": [{"type": "url", "url": "https://a.example/mcp", "name": "a"}],
        "tools": [
            {"type": "mcp_toolset", "mcp_server_name": "a", "default_config": {"enabled": False}}
        ],
    }
    assert body["headers"] == {"anthropic-beta": "mcp-client-2025-11-20"}
    assert len(body["changes"]) == 3


def test_the_migration_endpoint_keys_errors_by_json_path(member, actor):
    bad = {"mcp_servers": [{"type": "url", "url": "https://a.example/mcp", "name": "a",
                            "tool_configuration": {"allowed_tools": ["ok", 7]}}]}  # fmt: skip

    response = token_client(member, actor=actor).post(MIGRATE, bad)

    assert response.status_code == 400
    assert api_error(response)["errors"] == {
        "mcp_servers[0].tool_configuration.allowed_tools[1]": ["must be a string"]
    }


@pytest.mark.parametrize("body", [[1, 2], "text", 3])
def test_the_migration_endpoint_wants_a_json_object(member, actor, body):
    response = token_client(member, actor=actor).post(MIGRATE, body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["__all__"]


def test_the_migration_endpoint_needs_a_signed_in_caller():
    assert ApiClient(Client()).post(MIGRATE, {"mcp_servers": []}).status_code == 401
