"""The request migrator (page and API) with JSON built to exhaust it: refused with a sentence."""

import pytest

from tests.api.conftest import ApiClient

DEPTHS = [101, 600, 5_000, 100_000]


SERVER = '{"type": "url", "url": "https://a.example/mcp", "name": "a"}'


def nested(depth: int) -> str:
    """A request that would migrate, but for its messages: lists `depth` deep."""
    return '{"mcp_servers": [' + SERVER + '], "messages": ' + "[" * depth + "]" * depth + "}"


def _migrate(api: ApiClient, text: str):
    return api.client.generic(
        "POST",
        "/api/v1/tools/migrate-mcp-request",
        text,
        content_type="application/json",
        headers=api.headers,
    )


@pytest.mark.parametrize("depth", DEPTHS)
def test_the_migrator_api_refuses_json_nested_too_deeply(owner_api, depth):
    response = _migrate(owner_api, nested(depth))
    assert response.status_code == 400
    assert "nested too deeply" in response.content.decode()


@pytest.mark.parametrize("depth", DEPTHS)
def test_the_migrator_page_refuses_json_nested_too_deeply(owner_browser, depth):
    response = owner_browser.post("/tools/migrate-mcp-request/", {"request_body": nested(depth)})
    assert response.status_code == 400
    assert "nested too deeply" in response.content.decode()


def test_the_migrator_still_keeps_a_request_of_ordinary_depth(owner_api):
    body = (
        '{"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],'
        ' "mcp_servers": [' + SERVER + "]}"
    )
    response = _migrate(owner_api, body)
    assert response.status_code == 200
    assert response.json()["request"]["messages"][0]["content"][0]["text"] == "hi"


@pytest.mark.parametrize("megabytes", [1.5, 3])
def test_the_migrator_api_refuses_a_body_over_a_million_characters(owner_api, megabytes):
    padding = "x" * int(megabytes * 1_000_000)
    body = '{"mcp_servers": [' + SERVER + '], "messages": ["' + padding + '"]}'
    response = _migrate(owner_api, body)
    assert response.status_code == 400
    assert "too large" in response.content.decode() or "larger than" in response.content.decode()


def test_the_migrator_api_refuses_a_body_too_deep_for_the_json_parser_in_words(owner_api):
    response = _migrate(owner_api, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert "nested too deeply" in response.content.decode()
