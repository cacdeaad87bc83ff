"""Served over https (the base URL says so): HSTS, cookies only over TLS, plain http redirected;
X-Forwarded-Proto believed only when the deployment says a TLS proxy sits in front; and Django's
deployment checks pass with production settings."""

import base64
import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HTTPS = "https://connectors.example.com"
SETTINGS_FILE = Path(django_settings.BASE_DIR) / "orgconnectors" / "settings.py"
TRANSPORT = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
)


@pytest.fixture
def settings_for(monkeypatch, settings):
    """settings_for(**environment): orgconnectors/settings.py read again under that environment,
    its transport settings applied to this test's."""

    def load(**environment):
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        computed = runpy.run_path(str(SETTINGS_FILE))
        for name in TRANSPORT:
            setattr(settings, name, computed.get(name, getattr(django_settings, name)))
        if "SECURE_PROXY_SSL_HEADER" not in computed:
            settings.SECURE_PROXY_SSL_HEADER = None
        return computed

    return load


def test_an_https_base_url_turns_on_hsts_secure_cookies_and_the_redirect(settings_for, owner):
    settings_for(ORGCONNECTORS_BASE_URL=HTTPS)
    EmailAddress.objects.create(
        user=owner.user, email=owner.user.email, primary=True, verified=True
    )
    client = Client()

    plain = client.get("/accounts/login/")
    secure = client.get("/accounts/login/", secure=True)
    signed_in = client.post(
        "/accounts/login/", {"login": owner.user.email, "password": PASSWORD}, secure=True
    )

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/"
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert signed_in.cookies["sessionid"]["secure"] is True
    assert secure.cookies["csrftoken"]["secure"] is True


def test_an_http_base_url_for_development_keeps_them_off(settings_for):
    computed = settings_for(ORGCONNECTORS_BASE_URL="http://127.0.0.1:8000")

    response = Client().get("/accounts/login/")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
    assert not computed["SESSION_COOKIE_SECURE"] and not computed["SECURE_SSL_REDIRECT"]


def test_x_forwarded_proto_is_ignored_without_a_tls_proxy(settings_for, monkeypatch):
    monkeypatch.delenv("ORGCONNECTORS_BEHIND_TLS_PROXY", raising=False)
    settings_for(ORGCONNECTORS_BASE_URL=HTTPS)

    response = Client().get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})

    # Anyone can send the header to a server that faces the internet: still plain http.
    assert response.status_code == 301


def test_x_forwarded_proto_is_believed_behind_a_tls_proxy(settings_for):
    computed = settings_for(ORGCONNECTORS_BASE_URL=HTTPS, ORGCONNECTORS_BEHIND_TLS_PROXY="1")

    response = Client().get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})

    assert computed["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_djangos_deployment_checks_pass_with_production_settings():
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("ORGCONNECTORS_")
    }
    environment.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        ORGCONNECTORS_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ORGCONNECTORS_BASE_URL=HTTPS,
        DJANGO_ALLOWED_HOSTS="connectors.example.com",
        # Any 32 random bytes are an Ed25519 private key (the audit digests' signing key).
        ORGCONNECTORS_AUDIT_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
    )

    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
