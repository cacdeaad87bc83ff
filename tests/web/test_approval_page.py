"""The owners' Approvals page: which tools need approval, and how long a call waits."""

import pytest
from django.test import Client
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import ApprovalRequirement
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


def _signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_an_owner_requires_approval_for_a_tool_then_lifts_it(owner):
    connector = ConnectorFactory(organization=owner.organization, name="Issues")
    client = _signed_in(owner)
    url = reverse("approval_settings", args=["acme"])

    client.post(url, {"connector_id": connector.pk, "tool_name": "delete_issue"})
    page = client.get(reverse("approval_list", args=["acme"])).content.decode()
    client.post(
        url, {"connector_id": connector.pk, "tool_name": "delete_issue", "required": "false"}
    )

    assert "Issues · delete_issue" in page
    assert not ApprovalRequirement.objects.exists()
    assert AuditEvent.objects.filter(action="connector.tool_approval_changed").count() == 2


def test_a_timeout_out_of_range_is_refused_with_a_sentence(owner):
    client = _signed_in(owner)

    answer = client.post(
        reverse("approval_settings", args=["acme"]), {"timeout_seconds": "900"}, follow=True
    )

    assert "from 5 to 280 seconds" in answer.content.decode()
    owner.organization.refresh_from_db()
    assert owner.organization.approval_timeout_seconds == 120
