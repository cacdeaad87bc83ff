"""Every HTML page carries a Content-Security-Policy with a fresh nonce, and nothing on a page
needs more than that policy allows: no inline script or <style> without the page's nonce, no
event-handler or style attribute, no javascript: link. The pages are every page of the dashboard
as each role sees it, allauth's pages and the admin's."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.web.pages import page_routes, url_for

pytestmark = pytest.mark.django_db

DIRECTIVES = {
    "default-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
}
_TAG = re.compile(r"<(script|style)\b([^>]*)>", re.I)
_ATTRIBUTE = re.compile(r"<[a-zA-Z][^<>]*?\s(on[a-z]+|style)\s*=", re.I)
_JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def _policy(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    return dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip()
    )


def _nonce(policy: dict[str, str]) -> str | None:
    found = re.search(r"'nonce-([^']+)'", policy.get("script-src", ""))
    return found.group(1) if found else None


def problems_of(response) -> list[str]:
    """What the page would need beyond its policy (empty when it needs nothing more)."""
    path = response.request["PATH_INFO"]
    policy = _policy(response)
    found = [
        f"{path}: {name} is {policy.get(name)!r}, not {value!r}"
        for name, value in DIRECTIVES.items()
        if policy.get(name) != value
    ]
    if "'unsafe-inline'" in policy.get("script-src", "") + policy.get("style-src", ""):
        found.append(f"{path}: the policy allows unsafe-inline")
    nonce = _nonce(policy)
    html = response.content.decode()
    for tag in _TAG.finditer(html):
        name, attributes = tag.group(1).lower(), tag.group(2)
        if name == "script" and "src=" in attributes:
            continue  # from this site ('self'), checked by the browser
        if name == "script" and 'type="application/json"' in attributes:
            continue  # data that a script reads, never run
        if nonce is None or f'nonce="{nonce}"' not in attributes:
            found.append(f"{path}: an inline <{name}> without the page's nonce")
    found += [f"{path}: a {m.group(1)}= attribute" for m in _ATTRIBUTE.finditer(html)]
    found += [f"{path}: a javascript: URL" for _ in _JAVASCRIPT_URL.finditer(html)]
    return found


def _html_pages(client: Client, paths) -> list:
    responses = [client.get(path) for path in paths]
    return [
        r for r in responses if r.status_code == 200 and r["Content-Type"].startswith("text/html")
    ]


@pytest.mark.parametrize("role", ["owner", "member", "auditor"])
def test_every_dashboard_page_of_each_role_needs_nothing_beyond_its_policy(world, client_as, role):
    client = client_as(role)
    paths = [url_for(name, world.acme, role=role) for name in page_routes()]

    pages = _html_pages(client, paths)

    assert len(pages) >= 4, [p.request["PATH_INFO"] for p in pages]
    assert [problem for page in pages for problem in problems_of(page)] == []


def test_each_page_has_its_own_nonce_and_its_scripts_carry_it(world, client_as):
    client = client_as("owner")
    path = reverse("my_connectors", args=["acme"])

    first, second = client.get(path), client.get(path)

    nonces = [_nonce(_policy(r)) for r in (first, second)]
    assert None not in nonces and nonces[0] != nonces[1]
    scripts = re.findall(r"<script\b[^>]*>", first.content.decode())
    assert scripts and all(f'nonce="{nonces[0]}"' in s for s in scripts)


def test_allauths_pages_need_nothing_beyond_their_policy(client, owner):
    EmailAddress.objects.create(
        user=owner.user, email=owner.user.email, primary=True, verified=True
    )
    signed_out = _html_pages(
        client,
        [reverse(n) for n in ("account_login", "account_signup", "account_reset_password")],
    )
    sign_in = {"login": owner.user.email, "password": PASSWORD}
    client.post(reverse("account_login"), sign_in)
    signed_in = _html_pages(
        client, [reverse(n) for n in ("mfa_index", "account_email", "account_reauthenticate")]
    )
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    signed_in += _html_pages(client, [reverse("mfa_activate_totp")])
    TOTP.activate(owner.user, generate_totp_secret())
    client.logout()
    client.post(reverse("account_login"), sign_in)
    second_factor = _html_pages(client, [reverse("mfa_authenticate")])

    pages = signed_out + signed_in + second_factor
    assert [p.request["PATH_INFO"] for p in pages] == [
        reverse(n)
        for n in (
            "account_login",
            "account_signup",
            "account_reset_password",
            "mfa_index",
            "account_email",
            "account_reauthenticate",
            "mfa_activate_totp",
            "mfa_authenticate",
        )
    ]
    assert [problem for page in pages for problem in problems_of(page)] == []


def test_the_admins_pages_need_nothing_beyond_their_policy(world):
    operator = get_user_model().objects.create_superuser(email="ops@example.com", password="x-1")
    client = Client()
    client.force_login(operator)
    paths = ["/admin/", reverse("admin:oauth_keyrotation_start")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        paths.append(reverse("admin:{}_{}_changelist".format(*info)))
        paths.append(reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.first()
        if first is not None:
            paths.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))

    pages = _html_pages(client, paths)

    assert len(pages) >= 30
    assert [problem for page in pages for problem in problems_of(page)] == []
