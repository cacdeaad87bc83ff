"""The cursor of the audit trail's and usage events' pages is ours to hand out: any other is a
400 saying so, never a 500, however well-formed it looks."""

import base64
import json

import pytest


def _cursor(created_at, pk) -> str:
    raw = json.dumps([created_at, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED = [
    _cursor("9999-12-31T23:59:59-23:59", 1),
    _cursor("0001-01-01T00:00:00+23:59", 1),
    _cursor("2026-01-01T00:00:00+00:00", "9" * 5000),
    _cursor("2026-01-01T00:00:00+00:00", None),
    _cursor(5, 5),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]


@pytest.mark.parametrize("cursor", FORGED)
@pytest.mark.parametrize(
    "path", ["/api/v1/orgs/acme/audit-events", "/api/v1/orgs/acme/usage-events"]
)
def test_a_forged_cursor_is_a_400_with_a_sentence(owner_api, path, cursor):
    response = owner_api.get(path, {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


@pytest.mark.parametrize("cursor", FORGED)
@pytest.mark.parametrize("path", ["/orgs/acme/audit/", "/orgs/acme/usage/events/"])
def test_a_forged_cursor_on_a_page_says_the_link_is_damaged(owner_browser, path, cursor):
    response = owner_browser.get(path, {"cursor": cursor})
    assert response.status_code == 400
    assert "damaged" in response.content.decode()
