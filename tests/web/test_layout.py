"""What every page's layout shows: the plan's usage for those who connect, never for auditors."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from orgconnectors.connectors.models import Connection
from tests.factories import ConnectionFactory, ConnectorFactory

pytestmark = pytest.mark.django_db


def navigation(membership, url_name: str) -> str:
    client = Client()
    client.force_login(membership.user)
    html = client.get(reverse(url_name, args=[membership.organization.slug])).content.decode()
    nav = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", nav).split())


def test_a_member_sees_the_plan_usage_on_every_page(org, member):
    enabled, suspended, asked = ConnectorFactory.create_batch(3, organization=org)
    ConnectionFactory(membership=member, connector=enabled)
    ConnectionFactory(membership=member, connector=suspended, state=Connection.State.SUSPENDED)
    ConnectionFactory(
        membership=member, connector=asked, state=Connection.State.NEEDS_AUTHORIZATION
    )
    limit = org.max_enabled_connections

    for page in ("api_token_list", "messages_api_config", "my_connectors"):
        assert f"Your role: Member · 2 of {limit} connections in use" in navigation(member, page)


def test_on_the_free_plan_the_usage_reads_in_the_singular(org, member, plan):
    org.plan = plan("free")
    org.save()

    assert "0 of 1 connection in use" in navigation(member, "api_token_list")


def test_an_auditor_is_shown_no_plan_usage(auditor):
    words = navigation(auditor, "audit_list")

    assert "Your role: Auditor" in words and "in use" not in words
