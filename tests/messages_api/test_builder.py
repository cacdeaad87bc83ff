"""The pure part: names, tool policies as toolsets, what is left out and why."""

import json
from datetime import UTC, datetime

import jsonschema
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from pydantic import ValidationError

from orgconnectors.messages_api import builder
from orgconnectors.messages_api.builder import ConnectionFacts, Policy, Server
from tests.messages_api.helpers import assert_valid_messages_api_config


def facts(**overrides) -> ConnectionFacts:
    values = {
        "connector_id": 7,
        "connector_name": "Wiki",
        "server_name": "wiki",
        "url": "https://wiki.example.com/mcp",
        "state": "enabled",
        "state_reason": "",
        "status": "healthy",
        "last_error": "",
        "oauth": False,
        "policy": Policy(default_enabled=True),
    }
    return ConnectionFacts(**{**values, **overrides})


def test_names_are_slugs_of_the_display_names():
    names = builder.server_names([(3, "Company Wiki"), (5, "Jira (Cloud)"), (9, "Café Ünïcode")])

    assert names == {3: "company-wiki", 5: "jira-cloud", 9: "cafe-unicode"}


def test_the_oldest_connector_keeps_a_shared_name_and_the_others_get_their_id():
    names = builder.server_names([(12, "wiki"), (4, "Wiki"), (30, "WIKI!")])

    assert names == {4: "wiki", 12: "wiki-12", 30: "wiki-30"}


def test_names_do_not_depend_on_which_connectors_are_asked_about():
    everything = builder.server_names([(4, "Wiki"), (12, "wiki"), (13, "Tracker")])

    assert everything[12] == "wiki-12"
    assert builder.server_names([(12, "wiki"), (4, "Wiki")])[12] == everything[12]


def test_a_suffixed_name_never_clashes_with_another_connectors_own_name():
    names = builder.server_names([(1, "wiki"), (2, "wiki"), (3, "wiki 2"), (4, "wiki-2")])

    assert len(set(names.values())) == 4
    assert names[1] == "wiki"


def test_a_name_without_letters_or_digits_still_gets_one():
    assert builder.server_names([(8, "???"), (9, "!!!")]) == {8: "connector", 9: "connector-9"}


def test_default_allow_without_overrides_is_a_bare_toolset():
    assert builder.toolset("wiki", Policy(True, {})) == {
        "type": "mcp_toolset",
        "mcp_server_name": "wiki",
    }


def test_default_allow_with_blocked_tools_is_a_denylist():
    toolset = builder.toolset(
        "wiki", Policy(True, {"delete": False, "search": True, "edit": False})
    )

    assert toolset == {
        "type": "mcp_toolset",
        "mcp_server_name": "wiki",
        "configs": {"delete": {"enabled": False}, "edit": {"enabled": False}},
    }


def test_default_block_with_allowed_tools_is_an_allowlist():
    toolset = builder.toolset("wiki", Policy(False, {"search": True, "fetch": True, "rm": False}))

    assert toolset == {
        "type": "mcp_toolset",
        "mcp_server_name": "wiki",
        "default_config": {"enabled": False},
        "configs": {"fetch": {"enabled": True}, "search": {"enabled": True}},
    }


def test_default_block_without_allowed_tools_disables_everything_and_says_so():
    server = Server(name="wiki", url="https://w.example/mcp", policy=Policy(False, {"rm": False}))

    assert builder.toolset("wiki", server.policy) == {
        "type": "mcp_toolset",
        "mcp_server_name": "wiki",
        "default_config": {"enabled": False},
    }
    assert builder.no_tools_allowed(server, 7, "Wiki").code == "no_tools_allowed"


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"state": "suspended", "state_reason": "Moved to Free."}, "suspended"),
        ({"state": "needs_authorization"}, "needs_authorization"),
        ({"url": "http://127.0.0.1:9000/mcp"}, "not_https"),
        ({"status": "down", "last_error": "connection refused"}, "unhealthy"),
        ({"status": "unreachable"}, "unhealthy"),
        ({"status": "misconfigured"}, "unhealthy"),
    ],
)
def test_connections_that_cannot_work_are_left_out_with_their_reason(overrides, code):
    leftout = builder.left_out(facts(**overrides))

    assert leftout.code == code
    assert leftout.connector_id == 7
    assert "Wiki" in leftout.message


@pytest.mark.parametrize("status", ["healthy", "degraded", "unchecked", "auth_required"])
def test_connections_that_may_work_are_kept(status):
    assert builder.left_out(facts(status=status)) is None


def test_the_configuration_has_one_toolset_per_server_and_the_earliest_expiry():
    early, late = datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC)
    servers = [
        Server("a", "https://a.example/mcp", Policy(True), token="t1", token_expires_at=late),
        Server("b", "https://b.example/mcp", Policy(True), token="t2", token_expires_at=early),
        Server("c", "https://c.example/mcp", Policy(True)),
    ]

    config = builder.configuration(servers, [])

    assert [s["name"] for s in config["mcp_servers"]] == ["a", "b", "c"]
    assert [t["mcp_server_name"] for t in config["tools"]] == ["a", "b", "c"]
    assert "authorization_token" not in config["mcp_servers"][2]
    assert config["expires_at"] == early
    assert config["headers"] == {
        "anthropic-beta": "mcp-client-2026-09-15",
        "anthropic-version": "2023-06-01",
    }
    older = builder.configuration(servers, [], builder.BETA_2025_11_20)
    assert older["headers"]["anthropic-beta"] == "mcp-client-2025-11-20"


def test_without_tokens_nothing_expires():
    config = builder.configuration([Server("a", "https://a.example/mcp", Policy(True))], [])

    assert config["expires_at"] is None


@pytest.mark.parametrize(
    "toolset",
    [
        {"type": "mcp_toolset", "mcp_server_name": "wiki", "tools": [{"name": "search"}]},
        {
            "type": "mcp_toolset",
            "mcp_server_name": "wiki",
            "tools": [{"name": "search", "input_schema": {}, "inputSchema": {}}],
        },
        {"type": "mcp_toolset", "mcp_server_name": "wiki", "configs": {"search": {"enabled": 1}}},
        {"type": "mcp_toolset", "mcp_server_name": "wiki", "allowed_tools": ["search"]},
    ],
)
def test_the_sdk_check_refuses_what_the_anthropic_sdk_does_not_take(toolset):
    body = {
        "headers": builder.headers(),
        "mcp_servers": [{"type": "url", "url": "https://w.example/mcp", "name": "wiki"}],
        "tools": [toolset],
    }

    with pytest.raises((AssertionError, ValidationError, jsonschema.ValidationError)):
        assert_valid_messages_api_config(body)


def test_the_answer_written_with_its_pinned_listings_spliced_in_is_the_configuration():
    pinned = builder.PinnedTools(
        [{"name": "search", "description": "Søk «wiki»", "input_schema": {"type": "object"}}]
    )
    handout = builder.ToolHandout(listed=True, pinned=pinned, allowlist=("search",))
    expires = datetime(2030, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    servers = [
        Server("a", "https://a.example/mcp", Policy(False), tools=handout, token="t",
               token_expires_at=expires),
        Server("b", "https://b.example/mcp", Policy(True, {"rm": False})),
    ]  # fmt: skip
    config = builder.configuration(servers, [builder.live_descriptions_notice()])

    written = json.loads(builder.configuration_json(config))

    assert written == json.loads(json.dumps(config, cls=DjangoJSONEncoder))
    assert written["tools"][0]["tools"] == list(pinned)
    assert written["expires_at"] == "2030-01-01T12:00:00.123Z"
