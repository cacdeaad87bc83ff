"""Callers for the bad input tests: the owner signed in to the dashboard, and their API token."""

import pytest
from django.test import Client

from tests.api.conftest import ApiClient, token_client


@pytest.fixture
def owner_browser(owner) -> Client:
    client = Client()
    client.force_login(owner.user)
    return client


@pytest.fixture
def owner_api(owner, actor) -> ApiClient:
    return token_client(owner, actor=actor)


@pytest.fixture
def mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
