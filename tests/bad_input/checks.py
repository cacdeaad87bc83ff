"""What every answer to bad input must be: never a server error; a refusal says why."""

import json


def _messages(body) -> list:
    if not isinstance(body, dict):
        return [body]
    if "errors" in body:
        return [m for messages in body["errors"].values() for m in messages]
    return [body.get("detail") or body.get("message")]


def assert_refused_in_words_or_accepted(response) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.content[:1000]!r}"
    if 400 <= status < 500 and response["Content-Type"].startswith("application/json"):
        messages = _messages(json.loads(response.content))
        assert messages, response.content
        assert all(isinstance(m, str) and m.strip() for m in messages), messages
