from datetime import timedelta

import pytest
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.audit.models import AuditEvent
from orgconnectors.audit.redaction import field_changes
from orgconnectors.audit.services import audit_record
from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.services import connector_remove
from orgconnectors.core.actor import Actor
from orgconnectors.core.audit_target import AuditTarget
from orgconnectors.organizations.models import Invitation, PlanChangeRequest
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory


def test_it_records_who_did_what_to_what_from_where(org, owner, actor):
    with transaction.atomic():
        event = audit_record(
            organization=org,
            actor=actor(owner, ip="2001:db8::7", user_agent="curl/8.0"),
            action="connector.updated",
            target=AuditTarget(type="connector", id=42, label="Docs"),
            changes={"name": {"before": "Old", "after": "Docs"}},
        )

    event.refresh_from_db()
    assert event.organization == org
    assert event.actor == owner.user
    assert event.actor_label == "owner@acme.test"
    assert (event.action, event.target_type, event.target_id) == (
        "connector.updated",
        "connector",
        "42",
    )
    assert (event.ip, event.user_agent) == ("2001:db8::7", "curl/8.0")
    assert event.changes == {"name": {"before": "Old", "after": "Docs"}}


def test_a_system_actor_is_recorded_by_its_label(org):
    with transaction.atomic():
        event = audit_record(
            organization=org,
            actor=Actor.system("health sweep"),
            action="connector.health_changed",
            target=AuditTarget(type="connector"),
        )

    assert event.actor is None
    assert event.actor_label == "health sweep"
    assert event.changes == {}
    assert event.ip is None


def test_the_trail_outlives_the_person(org, owner, actor):
    person = MembershipFactory(organization=org, user__email="leaver@acme.test")
    with transaction.atomic():
        event = audit_record(
            organization=org, actor=actor(person), action="organization.plan_changed", target=org
        )

    person.user.delete()

    event.refresh_from_db()
    assert event.actor is None
    assert event.actor_label == "leaver@acme.test"


def test_an_actor_from_a_request_carries_the_address_and_browser(owner):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 400
    )
    request.user = owner.user

    actor = Actor.from_request(request)

    assert actor.user == owner.user
    assert actor.ip == "198.51.100.23"
    assert len(actor.user_agent) == 300
    assert actor.display == "owner@acme.test"


def test_an_anonymous_request_gives_an_actor_without_a_user(db):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/", REMOTE_ADDR="")
    request.user = AnonymousUser()

    actor = Actor.from_request(request)

    assert actor.user is None
    assert actor.ip is None
    assert actor.user_agent == ""
    assert actor.display == "system"


def test_field_changes_keep_only_what_changed_and_redact_secrets():
    changes = field_changes(
        {"name": "A", "url": "https://x.example", "secret": "old"},
        {"name": "B", "url": "https://x.example", "secret": "new"},
        secret_fields=frozenset({"secret"}),
    )

    assert changes == {
        "name": {"before": "A", "after": "B"},
        "secret": {"before": "[redacted]", "after": "[redacted]"},
    }


def test_a_secret_set_for_the_first_time_shows_only_that_one_is_set():
    changes = field_changes({"secret": ""}, {"secret": "abc"}, secret_fields=frozenset({"secret"}))

    assert changes == {"secret": {"before": None, "after": "[redacted]"}}


def test_a_service_that_fails_after_recording_leaves_no_event(org, owner, actor, monkeypatch):
    docs = ConnectorFactory(organization=org)

    def fail(self, *args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Connector, "delete", fail)

    with pytest.raises(RuntimeError, match="the disk is full"):
        connector_remove(connector=docs, actor=actor(owner))

    assert Connector.objects.filter(pk=docs.pk).exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_record_refuses_to_run_outside_a_transaction(actor):
    owner = MembershipFactory(role="owner")

    with pytest.raises(RuntimeError, match="must run inside the transaction"):
        audit_record(
            organization=owner.organization,
            actor=actor(owner),
            action="organization.plan_changed",
            target=owner.organization,
        )

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failure_after_recording_rolls_back_the_committed_transaction_too(actor, monkeypatch):
    owner = MembershipFactory(role="owner")
    docs = ConnectorFactory(organization=owner.organization)

    def fail(self, *args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Connector, "delete", fail)

    with pytest.raises(RuntimeError):
        connector_remove(connector=docs, actor=actor(owner))

    assert Connector.objects.filter(pk=docs.pk).exists()
    assert not AuditEvent.objects.exists()


def test_each_audited_model_names_itself_as_the_trail_stores_it(org, member, plan):
    docs = ConnectorFactory(organization=org, name="Docs")
    connection = ConnectionFactory(membership=member, connector=docs)
    later = timezone.now() + timedelta(days=1)
    token = ApiToken.objects.create(
        user=member.user, organization=org, name="CI", prefix="oc_ab12", token_hash="a" * 64,
        expires_at=later,
    )  # fmt: skip
    invitation = Invitation.objects.create(
        organization=org, email="new@acme.test", role="member", token_hash="b" * 64,
        expires_at=later,
    )  # fmt: skip
    request = PlanChangeRequest.objects.create(
        organization=org, plan=plan("enterprise"), connection_limit=12,
        requested_by_email="owner@acme.test",
    )  # fmt: skip
    user = member.user_id

    assert [thing.audit_target() for thing in (org, member, docs, connection)] == [
        AuditTarget(type="organization", id=org.pk, label=org.name),
        AuditTarget(type="membership", id=member.pk, label="member@acme.test", member_user_id=user),
        AuditTarget(type="connector", id=docs.pk, label="Docs", connector_id=docs.pk),
        AuditTarget(
            type="connection", id=connection.pk, label="member@acme.test · Docs",
            connector_id=docs.pk, member_user_id=user,
        ),
    ]  # fmt: skip
    assert [thing.audit_target() for thing in (token, invitation, request)] == [
        AuditTarget(type="api_token", id=token.pk, label="CI (oc_ab12…)", member_user_id=user),
        AuditTarget(type="invitation", id=invitation.pk, label="new@acme.test"),
        AuditTarget(type="plan_change_request", id=request.pk, label="Enterprise, 12 per member"),
    ]


def test_an_event_stores_what_its_target_says(org, member, actor):
    docs = ConnectorFactory(organization=org, name="Docs")
    connection = ConnectionFactory(membership=member, connector=docs)

    with transaction.atomic():
        event = audit_record(
            organization=org, actor=actor(member), action="connection.enabled", target=connection
        )

    event.refresh_from_db()
    assert (event.target_type, event.target_id, event.target_label) == (
        "connection",
        str(connection.pk),
        "member@acme.test · Docs",
    )
    assert (event.connector_ref, event.member_ref) == (docs.pk, member.user_id)


def test_a_target_that_is_not_at_hand_is_stored_as_written(org):
    with transaction.atomic():
        event = audit_record(
            organization=org,
            actor=Actor.system("tests"),
            action="audit.exported",
            target=AuditTarget(type="export", label="x" * 400),
        )

    event.refresh_from_db()
    assert (event.target_type, event.target_id, len(event.target_label)) == ("export", "", 300)
    assert (event.connector_ref, event.member_ref) == (None, None)
