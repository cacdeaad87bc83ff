"""Approvers: owners, and the members an owner names, answer calls waiting for approval."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import CallApproval
from orgconnectors.organizations.selectors import approver_emails
from tests.factories import ConnectorFactory

pytestmark = pytest.mark.django_db


def _signed_in(membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def _waiting_call(membership) -> CallApproval:
    return CallApproval.objects.create(
        organization=membership.organization,
        connector=ConnectorFactory(organization=membership.organization, name="Issues"),
        membership=membership,
        tool_name="delete_issue",
        client="Claude",
        arguments={"issue": 7},
        expires_at=timezone.now() + timedelta(minutes=2),
    )


def _name(owner, member, approver: bool):
    return _signed_in(owner).post(
        reverse("approval_approver", args=["acme", member.pk]),
        {"approver": "true" if approver else "false"},
        follow=True,
    )


def test_a_member_an_owner_names_sees_the_live_list_and_denies_a_call(owner, member, auditor):
    approval = _waiting_call(auditor)
    named = _name(owner, member, True)
    client = _signed_in(member)

    page = client.get(reverse("approval_list", args=["acme"])).content.decode()
    client.post(reverse("approval_decide", args=["acme", approval.pk]), {"decision": "deny"})

    assert f"{member.user.email} now answers calls waiting for approval" in named.content.decode()
    assert "Issues · delete_issue" in page
    assert ">Approvals</a>" in page
    # The settings stay the owners'.
    assert "Tools that need approval" not in page
    assert "approvers-title" not in page
    approval.refresh_from_db()
    assert approval.state == CallApproval.State.DENIED
    assert approval.decided_by == member.user
    event = AuditEvent.objects.get(action="membership.approver_changed")
    assert event.changes == {"approver": True}


def test_a_member_no_longer_named_is_refused_the_list_and_the_decision(owner, member, auditor):
    approval = _waiting_call(auditor)
    _name(owner, member, True)
    _name(owner, member, False)
    client = _signed_in(member)

    listing = client.get(reverse("approval_list", args=["acme"]))
    decision = client.post(
        reverse("approval_decide", args=["acme", approval.pk]), {"decision": "allow"}
    )

    assert listing.status_code == 403
    assert decision.status_code == 403
    assert "members they name as approvers" in decision.content.decode()
    approval.refresh_from_db()
    assert approval.state == CallApproval.State.PENDING
    assert AuditEvent.objects.filter(action="membership.approver_changed").count() == 2


def test_an_auditor_cannot_be_named_an_approver(owner, auditor):
    answer = _name(owner, auditor, True)

    assert "Only members can be named approvers" in answer.content.decode()
    auditor.refresh_from_db()
    assert not auditor.is_approver


def test_the_owners_see_whom_they_can_name(owner, member):
    page = _signed_in(owner).get(reverse("approval_list", args=["acme"])).content.decode()

    assert f'Name as approver<span class="visually-hidden">: {member.user.email}' in page


def test_approvers_emails_are_the_owners_and_the_named_members(owner, member, auditor):
    _name(owner, member, True)

    emails = approver_emails(organization_id=owner.organization_id)

    assert emails == sorted([owner.user.email, member.user.email])
