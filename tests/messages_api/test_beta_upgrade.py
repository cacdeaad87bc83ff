"""Requests written for mcp-client-2025-04-04, rewritten for mcp-client-2025-11-20."""

import json

import pytest

from orgconnectors.messages_api.beta_upgrade import MigrationInvalid, migrate_request, migrate_text

MESSAGES = [{"role": "user", "content": "Find the open incidents."}]


def request(*servers, **fields) -> dict:
    return {"model": "claude-sonnet-4-5", "max_tokens": 1000, "messages": MESSAGES,
            "mcp_servers": list(servers), **fields}  # fmt: skip


def server(name: str, **fields) -> dict:
    return {"type": "url", "url": f"https://{name}.example.com/mcp", "name": name, **fields}


def errors_of(body) -> list[str]:
    with pytest.raises(MigrationInvalid) as invalid:
        migrate_request(body)
    return [str(error) for error in invalid.value.errors]


def test_a_server_without_tool_configuration_gets_a_bare_toolset():
    migrated = migrate_request(request(server("wiki", authorization_token="tok")))

    assert migrated.request["mcp_servers"] == [server("wiki", authorization_token="tok")]
    assert migrated.request["tools"] == [{"type": "mcp_toolset", "mcp_server_name": "wiki"}]
    assert any("tools[0]: added an mcp_toolset for “wiki”" in c for c in migrated.changes)


def test_enabled_false_disables_every_tool():
    old = request(server("wiki", tool_configuration={"enabled": False}))

    migrated = migrate_request(old)

    assert migrated.request["mcp_servers"] == [server("wiki")]
    assert migrated.request["tools"] == [
        {"type": "mcp_toolset", "mcp_server_name": "wiki", "default_config": {"enabled": False}}
    ]
    assert "mcp_servers[0] (“wiki”): removed tool_configuration." in migrated.changes


def test_allowed_tools_become_an_allowlist():
    old = request(
        server("wiki", tool_configuration={"enabled": True, "allowed_tools": ["search", "fetch"]})
    )

    migrated = migrate_request(old)

    assert migrated.request["tools"] == [
        {
            "type": "mcp_toolset",
            "mcp_server_name": "wiki",
            "default_config": {"enabled": False},
            "configs": {"search": {"enabled": True}, "fetch": {"enabled": True}},
        }
    ]
    assert any("only search, fetch enabled" in change for change in migrated.changes)


def test_an_empty_allowlist_enables_nothing():
    migrated = migrate_request(request(server("wiki", tool_configuration={"allowed_tools": []})))

    assert migrated.request["tools"][0]["default_config"] == {"enabled": False}
    assert "configs" not in migrated.request["tools"][0]


def test_other_fields_and_other_tools_are_kept_and_toolsets_come_after_them():
    weather = {"name": "get_weather", "input_schema": {"type": "object"}}
    old = request(server("a"), server("b"), tools=[weather], temperature=0.2, system="Be brief.")

    migrated = migrate_request(old)

    new = migrated.request
    assert new["tools"] == [
        weather,
        {"type": "mcp_toolset", "mcp_server_name": "a"},
        {"type": "mcp_toolset", "mcp_server_name": "b"},
    ]
    assert {k: new[k] for k in ("model", "max_tokens", "messages", "temperature", "system")} == {
        "model": "claude-sonnet-4-5", "max_tokens": 1000, "messages": MESSAGES,
        "temperature": 0.2, "system": "Be brief.",
    }  # fmt: skip
    assert old["tools"] == [weather], "the input is not changed"


def test_tools_is_added_right_after_mcp_servers():
    migrated = migrate_request(request(server("a"), stream=True))

    assert list(migrated.request) == [
        "model", "max_tokens", "messages", "mcp_servers", "tools", "stream"
    ]  # fmt: skip


def test_a_server_that_already_has_its_toolset_is_left_alone():
    toolset = {"type": "mcp_toolset", "mcp_server_name": "a", "configs": {"x": {"enabled": False}}}

    migrated = migrate_request(request(server("a"), tools=[toolset]))

    assert migrated.request["tools"] == [toolset]


def test_the_betas_list_and_the_header_are_updated():
    migrated = migrate_request(request(server("a"), betas=["mcp-client-2025-04-04", "other"]))

    assert migrated.request["betas"] == ["mcp-client-2025-11-20", "other"]
    assert migrated.headers == {"anthropic-beta": "mcp-client-2025-11-20"}
    assert "anthropic-beta: mcp-client-2025-11-20" in migrated.changes[-1]


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            request(server("a"), server("b", tool_configuration={"allowed_tools": ["ok", 3]})),
            "mcp_servers[1].tool_configuration.allowed_tools[1]: must be a string",
        ),
        (
            request(server("a", tool_configuration={"enabled": "no"})),
            "mcp_servers[0].tool_configuration.enabled: must be true or false",
        ),
        (
            request(server("a", tool_configuration={"allowed_tool": ["x"]})),
            "mcp_servers[0].tool_configuration.allowed_tool: is not a field of",
        ),
        (
            request(server("a", tool_configuration={"allowed_tools": "search"})),
            "mcp_servers[0].tool_configuration.allowed_tools: must be a list of tool names",
        ),
        (request(server("a", url="http://a.example/mcp")), "mcp_servers[0].url: must be a string"),
        (request(server("a", type="sse")), 'mcp_servers[0].type: must be "url"'),
        (request(server("a"), server("a")), "mcp_servers[1].name: “a” is already the name of"),
        (request("just a string"), "mcp_servers[0]: must be an object"),
        ({"model": "m", "messages": []}, "mcp_servers: is missing"),
        (request(server("a"), tools={"not": "a list"}), "tools: must be a list"),
        (
            request(server("a"), tools=[{"type": "mcp_toolset", "mcp_server_name": "zz"}]),
            "tools[0].mcp_server_name: must be the name of one of mcp_servers",
        ),
        (
            request(
                server("a", tool_configuration={"enabled": False}),
                tools=[{"type": "mcp_toolset", "mcp_server_name": "a"}],
            ),
            "mcp_servers[0].tool_configuration: conflicts with tools[0]",
        ),
        ([1, 2], "The request body must be a JSON object."),
    ],
)
def test_invalid_input_is_reported_at_its_json_path(body, expected):
    errors = errors_of(body)

    assert any(error.startswith(expected) for error in errors), errors


def test_every_error_is_reported_not_only_the_first():
    body = request(
        server("a", tool_configuration={"enabled": 1}),
        server("b", tool_configuration={"allowed_tools": [None]}),
    )

    assert errors_of(body) == [
        "mcp_servers[0].tool_configuration.enabled: must be true or false",
        "mcp_servers[1].tool_configuration.allowed_tools[0]: must be a string",
    ]


def test_text_that_is_not_json_says_where():
    with pytest.raises(MigrationInvalid) as invalid:
        migrate_text('{"mcp_servers": [}')

    assert "line 1, column 18" in str(invalid.value)


def test_text_is_migrated_like_a_body():
    migrated = migrate_text(json.dumps(request(server("a"))))

    assert migrated.request["tools"] == [{"type": "mcp_toolset", "mcp_server_name": "a"}]
