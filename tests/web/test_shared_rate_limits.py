"""With REDIS_URL, Django's cache is on Redis: what one web process counts (allauth's sign-in
limits among them), every other process sees. Another process here is a real one: a Python
subprocess with the same settings."""

import os
import subprocess
import sys
import textwrap

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.cache import cache
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-1"


@pytest.fixture(autouse=True)
def _needs_redis():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: the cache is per process by design")


def _in_another_process(code: str) -> None:
    script = "import django; django.setup()\n" + textwrap.dedent(code)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "orgconnectors.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_count_made_in_another_process_is_seen_here():
    _in_another_process(
        """
        from django.core.cache import cache
        cache.set("shared-counter", 41, timeout=60)
        """
    )

    assert cache.incr("shared-counter") == 42


def test_sign_in_failures_in_another_process_trip_allauths_limit_here(client):
    person = get_user_model().objects.create_user(email="ops@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=person, email=person.email, primary=True, verified=True)
    # Five wrong passwords for this address (allauth's limit per address), in another process.
    _in_another_process(
        """
        from allauth.account.adapter import get_adapter
        from django.test import RequestFactory
        request = RequestFactory().post("/accounts/login/")
        for _ in range(5):
            get_adapter(request).pre_authenticate(
                request, email="ops@example.com", password="wrong"
            )
        """
    )

    response = client.post(
        reverse("account_login"), {"login": "ops@example.com", "password": PASSWORD}
    )

    assert SESSION_KEY not in client.session
    assert "Too many failed login attempts" in response.content.decode()
