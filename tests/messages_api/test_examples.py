"""The copyable examples are valid Python and shell, and carry the configuration as it is."""

import ast
import json
import shlex

import pytest

from orgconnectors.messages_api import examples

CONFIG = {
    "headers": {"anthropic-beta": "mcp-client-2026-09-15", "anthropic-version": "2023-06-01"},
    "mcp_servers": [
        {"type": "url", "url": "https://wiki.example.com/mcp?x='1'", "name": "wiki",
         "authorization_token": "tok'en"},
    ],
    "tools": [
        {"type": "mcp_toolset", "mcp_server_name": "wiki", "default_config": {"enabled": False},
         "configs": {"search": {"enabled": True}}},
    ],
}  # fmt: skip


def test_the_python_examples_are_valid_python_with_the_configuration_in_them():
    inline = ast.parse(examples.python_inline(CONFIG))
    ast.parse(examples.python_fetching("https://oc.example.com", "acme"))

    call = next(node for node in ast.walk(inline) if isinstance(node, ast.Call) and
                getattr(node.func, "attr", "") == "create")  # fmt: skip
    arguments = {kw.arg: kw.value for kw in call.keywords}
    assert ast.literal_eval(arguments["mcp_servers"]) == CONFIG["mcp_servers"]
    assert ast.literal_eval(arguments["tools"]) == CONFIG["tools"]
    assert ast.literal_eval(arguments["betas"]) == ["mcp-client-2026-09-15"]


@pytest.mark.parametrize("beta", ["mcp-client-2026-09-15", "mcp-client-2025-11-20"])
def test_the_examples_send_the_beta_the_configuration_is_written_for(beta):
    config = {**CONFIG, "headers": {**CONFIG["headers"], "anthropic-beta": beta}}

    inline = ast.parse(examples.python_inline(config))
    fetching = ast.parse(examples.python_fetching("https://oc.example.com", "acme", beta))
    curl = shlex.split(examples.curl_messages(config).replace("\\\n", " "))
    asked = shlex.split(
        examples.curl_config("https://oc.example.com", "acme", beta).replace("\\\n", " ")
    )

    for tree in (inline, fetching):
        call = next(node for node in ast.walk(tree) if isinstance(node, ast.Call) and
                    getattr(node.func, "attr", "") == "create")  # fmt: skip
        betas = next(kw.value for kw in call.keywords if kw.arg == "betas")
        assert ast.literal_eval(betas) == [beta]
    assert f"?beta={beta}" in examples.python_fetching("https://oc.example.com", "acme", beta)
    assert f"anthropic-beta: {beta}" in curl
    assert asked[-1].endswith(f"/messages-api-config?beta={beta}")


def test_the_curl_example_sends_the_configuration_and_the_beta_header():
    words = shlex.split(examples.curl_messages(CONFIG).replace("\\\n", " "))

    body = json.loads(words[words.index("-d") + 1])
    assert body["mcp_servers"] == CONFIG["mcp_servers"]
    assert body["tools"] == CONFIG["tools"]
    assert "anthropic-beta: mcp-client-2026-09-15" in words


def test_the_curl_for_the_configuration_names_the_organizations_endpoint():
    words = shlex.split(examples.curl_config("https://oc.example.com", "acme").replace("\\\n", " "))

    assert words[-1] == (
        "https://oc.example.com/api/v1/orgs/acme/messages-api-config?beta=mcp-client-2026-09-15"
    )
