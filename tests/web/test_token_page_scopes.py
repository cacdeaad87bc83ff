"""The API tokens page: scopes offered by role (all ticked to start), an expiry, and each
token's scopes and last use."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import api_token_create

pytestmark = pytest.mark.django_db

TOKENS = reverse("api_token_list", args=["acme"])


def signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _boxes(html: str) -> dict[str, bool]:
    """The scope checkboxes on the page: value -> ticked."""
    boxes = re.findall(r'<input type="checkbox" name="scopes" value="(\w+)"([^>]*)>', html)
    return {value: "checked" in rest for value, rest in boxes}


@pytest.mark.parametrize(
    "role, offered",
    [
        ("owner", {"read": True, "connections": True, "admin": True, "mcp": True}),
        ("member", {"read": True, "connections": True, "mcp": True}),
        ("auditor", {"read": True}),
    ],
)
def test_the_form_offers_the_scopes_the_role_allows_all_ticked(request, role, offered):
    membership = request.getfixturevalue(role)

    html = signed_in(membership).get(TOKENS).content.decode()

    assert _boxes(html) == offered
    assert 'name="expires_in_days" value="90"' in html


def test_a_token_gets_the_scopes_ticked(owner):
    response = signed_in(owner).post(
        TOKENS, {"name": "Reader", "scopes": ["read"], "expires_in_days": "7"}
    )

    assert response.status_code == 200
    api_token = ApiToken.objects.get()
    assert api_token.scopes == ["read"]
    assert abs(api_token.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


def test_a_member_cannot_tick_admin_by_hand(member):
    response = signed_in(member).post(TOKENS, {"name": "Sneaky", "scopes": ["read", "admin"]})

    assert response.status_code == 400
    assert "Your role does not allow the scope “admin”." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_no_scope_ticked_is_refused_with_a_reason(member):
    response = signed_in(member).post(TOKENS, {"name": "Empty"})

    assert response.status_code == 400
    assert "Choose at least one scope." in response.content.decode()


def test_more_than_a_year_is_refused(member):
    response = signed_in(member).post(
        TOKENS, {"name": "Long", "scopes": ["read"], "expires_in_days": "366"}
    )

    assert response.status_code == 400
    assert "A token lasts at most 365 days." in response.content.decode()


def test_the_list_shows_each_tokens_scopes_and_last_use(member, actor):
    used, _ = api_token_create(membership=member, name="Used", actor=actor(member), scopes=["read"])
    ApiToken.objects.filter(pk=used.pk).update(last_used_at=timezone.now() - timedelta(hours=3))
    api_token_create(membership=member, name="Unused", actor=actor(member))

    html = signed_in(member).get(TOKENS).content.decode()

    used_row = html[html.index(">Used<") : html.index("</tr>", html.index(">Used<"))]
    unused_row = html[html.index(">Unused<") : html.index("</tr>", html.index(">Unused<"))]
    assert '<td class="token-scopes"><code>read</code></td>' in used_row
    assert "3\xa0hours ago" in used_row
    assert "<code>read</code> <code>connections</code>" in unused_row
    assert "Never" in unused_row
