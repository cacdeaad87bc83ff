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


# What a refused input must leave as it was. Fields that change on every request (a token's
# last use) are left out.
_VOLATILE = {"last_used_at"}


def _rows(model) -> list[tuple]:
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in _VOLATILE]
    return list(model.objects.order_by("pk").values_list(*fields))


@pytest.fixture
def stored():
    """stored() -> every row of the tables bad input could reach, to compare before and after."""
    from django.apps import apps

    labels = (
        "organizations.Organization",
        "organizations.Membership",
        "organizations.Invitation",
        "connectors.Connector",
        "connectors.Connection",
        "connectors.ToolOverride",
        "api.ApiToken",
        "audit.AuditEvent",
        "reports.ExportJob",
    )

    def snapshot() -> dict:
        return {label: _rows(apps.get_model(label)) for label in labels}

    return snapshot
