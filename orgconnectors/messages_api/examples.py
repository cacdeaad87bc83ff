"""The copyable examples on the "Use with the API" page, written from a configuration and the
beta it is written for (its `headers` name it). Pure."""

import json
from urllib.parse import urlencode

from orgconnectors.messages_api.builder import ANTHROPIC_VERSION, DEFAULT_BETA

MODEL = "claude-sonnet-4-5"
PROMPT = "What tools do you have available?"


def _shell_quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def request_body(config: dict) -> dict:
    return {
        "model": MODEL,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": PROMPT}],
        "mcp_servers": config["mcp_servers"],
        "tools": config["tools"],
    }


def _beta(config: dict) -> str:
    return config.get("headers", {}).get("anthropic-beta", DEFAULT_BETA)


def config_url(base_url: str, org_slug: str, beta: str = DEFAULT_BETA) -> str:
    """The endpoint, naming the beta: an app keeps the one it was written for."""
    return f"{base_url}/api/v1/orgs/{org_slug}/messages-api-config?{urlencode({'beta': beta})}"


def curl_config(base_url: str, org_slug: str, beta: str = DEFAULT_BETA) -> str:
    """Asking orgconnectors for the configuration, with fresh tokens."""
    return (
        'curl -H "Authorization: Bearer $ORGCONNECTORS_TOKEN" \\\n'
        f"  {_shell_quoted(config_url(base_url, org_slug, beta))}"
    )


def curl_messages(config: dict) -> str:
    """Sending the configuration to the Messages API, with the beta it is written for."""
    body = json.dumps(request_body(config), indent=2, ensure_ascii=False)
    return (
        "curl https://api.anthropic.com/v1/messages \\\n"
        '  -H "content-type: application/json" \\\n'
        '  -H "x-api-key: $ANTHROPIC_API_KEY" \\\n'
        f'  -H "anthropic-version: {ANTHROPIC_VERSION}" \\\n'
        f'  -H "anthropic-beta: {_beta(config)}" \\\n'
        f"  -d {_shell_quoted(body)}"
    )


def python_fetching(base_url: str, org_slug: str, beta: str = DEFAULT_BETA) -> str:
    """The anthropic SDK with the configuration fetched from orgconnectors at each run."""
    return f'''import os

import anthropic
import httpx

# Your connectors, with tokens valid for at least another minute.
config = httpx.get(
    "{config_url(base_url, org_slug, beta)}",
    headers={{"Authorization": f"Bearer {{os.environ['ORGCONNECTORS_TOKEN']}}"}},
).raise_for_status().json()
for warning in config["warnings"]:
    print("Note:", warning["message"])

client = anthropic.Anthropic()  # reads ANTHROPIC_API_KEY
response = client.beta.messages.create(
    model="{MODEL}",
    max_tokens=1024,
    messages=[{{"role": "user", "content": "{PROMPT}"}}],
    mcp_servers=config["mcp_servers"],
    tools=config["tools"],
    betas=["{beta}"],  # as config["headers"] name it
)
print(response.content)
'''


def _python_literal(value, depth: int = 1) -> str:
    """`value` as Python source, indented like the JSON beside it (True, not true)."""
    pad, inner = "    " * (depth - 1), "    " * depth
    if isinstance(value, dict) and value:
        items = [f"{inner}{k!r}: {_python_literal(v, depth + 1)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value:
        items = [f"{inner}{_python_literal(v, depth + 1)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    return repr(value)


def python_inline(config: dict) -> str:
    """The anthropic SDK with this configuration written into the script."""
    servers = _python_literal(config["mcp_servers"], 2)
    tools = _python_literal(config["tools"], 2)
    return f"""import anthropic

client = anthropic.Anthropic()  # reads ANTHROPIC_API_KEY
response = client.beta.messages.create(
    model="{MODEL}",
    max_tokens=1024,
    messages=[{{"role": "user", "content": "{PROMPT}"}}],
    mcp_servers={servers},
    tools={tools},
    betas=["{_beta(config)}"],
)
print(response.content)
"""
