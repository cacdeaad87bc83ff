"""The copyable examples are valid Python and shell, and carry the configuration as it is."""

import ast
import json
import shlex

from orgconnectors.messages_api import examples

CONFIG = {
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
    assert ast.literal_eval(arguments["betas"]) == ["mcp-client-2025-11-20"]


def test_the_curl_example_sends_the_configuration_and_the_beta_header():
    words = shlex.split(examples.curl_messages(CONFIG).replace("\\\n", " "))

    body = json.loads(words[words.index("-d") + 1])
    assert body["mcp_servers"] == CONFIG["mcp_servers"]
    assert body["tools"] == CONFIG["tools"]
    assert "anthropic-beta: mcp-client-2025-11-20" in words


def test_the_curl_for_the_configuration_names_the_organizations_endpoint():
    words = shlex.split(examples.curl_config("https://oc.example.com", "acme").replace("\\\n", " "))

    assert words[-1] == "https://oc.example.com/api/v1/orgs/acme/messages-api-config"
