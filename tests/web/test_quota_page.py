"""The owners' Quotas page: set a connector's or a tool's limits, see them, remove them."""

import pytest
from django.test import Client
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Quota
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


def _signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_an_owner_sets_a_tools_quota_and_sees_it_with_the_plan_default(owner):
    connector = ConnectorFactory(organization=owner.organization, name="Issues")
    client = _signed_in(owner)
    url = reverse("quota_list", args=["acme"])

    answer = client.post(
        url, {"connector": connector.pk, "tool_name": "search", "per_minute": "5", "per_day": ""}
    )
    page = client.get(url).content.decode()

    assert answer.status_code == 302
    quota = Quota.objects.get(organization=owner.organization)
    assert (quota.connector_id, quota.tool_name, quota.per_minute, quota.per_day) == (
        connector.pk,
        "search",
        5,
        None,
    )
    assert "The tool &#x27;search&#x27; of Issues" in page
    assert "120 per minute, 20000 per day" in page  # the Team plan's default
    assert AuditEvent.objects.filter(action="quota.set").count() == 1


def test_a_limit_of_zero_is_refused_next_to_its_field(owner):
    answer = _signed_in(owner).post(
        reverse("quota_list", args=["acme"]), {"connector": "", "per_minute": "0"}
    )

    assert answer.status_code == 400
    assert "greater than or equal to 1" in answer.content.decode()
    assert not Quota.objects.exists()


def test_an_owner_removes_a_quota(owner):
    quota = Quota.objects.create(organization=owner.organization, per_minute=3)

    answer = _signed_in(owner).post(reverse("quota_delete", args=["acme", quota.pk]))

    assert answer.status_code == 302
    assert not Quota.objects.exists()
    assert AuditEvent.objects.filter(action="quota.removed").count() == 1
