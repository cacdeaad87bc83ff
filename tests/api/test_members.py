import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.models import Invitation, Membership
from tests.api.conftest import token_client
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory
from tests.responses import api_error

MEMBERS = "/api/v1/orgs/acme/members"
Role = Membership.Role


def one(membership) -> str:
    return f"{MEMBERS}/{membership.pk}"


def test_it_lists_everyone_with_their_connections_in_use(as_owner, owner, member, auditor, org):
    ConnectionFactory(membership=member, connector=ConnectorFactory(organization=org))
    ConnectionFactory(
        membership=member,
        connector=ConnectorFactory(organization=org),
        state=Connection.State.SUSPENDED,
    )

    response = as_owner.get(MEMBERS)

    assert response.status_code == 200
    assert [(m["id"], m["email"], m["role"], m["connections_in_use"]) for m in response.json()] == [
        (auditor.pk, "auditor@acme.test", "auditor", 0),
        (member.pk, "member@acme.test", "member", 1),
        (owner.pk, "owner@acme.test", "owner", 0),
    ]


# Inviting


def test_it_invites_by_email_and_the_link_goes_only_to_the_mailbox(
    as_owner, org, mailoutbox, django_capture_on_commit_callbacks, eager_celery
):
    # The email goes out from a worker (eager here), after the invitation is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = as_owner.post(MEMBERS, {"email": " New.Person@Example.com ", "role": "auditor"})

    assert response.status_code == 201
    body = response.json()
    invitation = Invitation.objects.get()
    assert set(body) == {"id", "email", "role", "expires_at"}
    assert (body["id"], body["email"], body["role"]) == (
        invitation.pk,
        "new.person@example.com",
        "auditor",
    )
    [mail] = mailoutbox
    assert mail.to == ["new.person@example.com"]
    link = re.search(r"Accept the invitation: (\S+)", mail.body)[1]
    assert link.startswith(settings.ORGCONNECTORS_BASE_URL + "/invitations/")
    # The inviter never holds the secret: accepting proves the invited mailbox is theirs.
    token = urlsplit(link).path.rstrip("/").rsplit("/", 1)[1]
    assert token not in response.content.decode()
    # The link opens the page where the invited person joins.
    assert Client().get(urlsplit(link).path).status_code == 200


def test_it_invites_as_a_member_when_no_role_is_given(as_owner):
    response = as_owner.post(MEMBERS, {"email": "new@example.com"})

    assert response.status_code == 201
    assert response.json()["role"] == "member"


@pytest.mark.parametrize(
    "body, errors",
    [
        (
            {"email": "member@acme.test"},
            {"email": ["member@acme.test is already in Acme."]},
        ),
        (
            {"email": "not an address"},
            {"email": ["Enter a valid email address, like name@example.com."]},
        ),
        (
            {"email": "new@example.com", "role": "admin"},
            {"role": ["Choose one of 'owner', 'member' or 'auditor'."]},
        ),
        ({"role": "member"}, {"email": ["This field is required."]}),
        (
            {"email": "a" * 250 + "@example.com"},
            {"email": ["This address is longer than the 254 characters an account can have."]},
        ),
    ],
)
def test_it_refuses_an_invitation_it_cannot_send(as_owner, member, body, errors):
    response = as_owner.post(MEMBERS, body)

    assert response.status_code == 400
    assert api_error(response)["errors"] == errors
    assert not Invitation.objects.exists()


# Roles


def test_it_changes_a_role(as_owner, member, org):
    ConnectionFactory(membership=member, connector=ConnectorFactory(organization=org))

    response = as_owner.patch(one(member), {"role": "auditor"})

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["role"], body["connections_in_use"]) == (member.pk, "auditor", 0)
    member.refresh_from_db()
    assert member.role == Role.AUDITOR
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.changes == {"role": {"before": "member", "after": "auditor"}}


def test_it_keeps_the_last_owner(as_owner, owner):
    response = as_owner.patch(one(owner), {"role": "member"})

    assert response.status_code == 400
    assert api_error(response)["errors"] == {
        "role": ["owner@acme.test is the only owner of Acme; make someone else an owner first."]
    }
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_owner_may_step_down_when_another_owner_remains(as_owner, owner, org):
    MembershipFactory(organization=org, role=Role.OWNER)

    response = as_owner.patch(one(owner), {"role": "member"})

    assert response.status_code == 200
    # Now a member, the same token can no longer manage members: it held `admin`, so it is gone.
    assert as_owner.get(MEMBERS).status_code == 401


def test_it_refuses_a_role_that_does_not_exist(as_owner, member):
    response = as_owner.patch(one(member), {"role": "admin"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["role"]


# Removing


def test_it_removes_a_member_with_their_connections_and_tokens(as_owner, member, org, actor):
    ConnectionFactory(membership=member, connector=ConnectorFactory(organization=org))
    members_token = token_client(member, actor=actor)

    response = as_owner.delete(one(member))

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert not Connection.objects.exists()
    assert members_token.get("/api/v1/orgs/acme").status_code == 401


def test_it_does_not_remove_the_last_owner(as_owner, owner):
    response = as_owner.delete(one(owner))

    assert response.status_code == 400
    assert api_error(response)["errors"] == {
        "__all__": [
            "owner@acme.test is the only owner of Acme; "
            "make someone else an owner before removing them."
        ]
    }
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_a_member_cannot_remove_anyone(as_member, owner):
    response = as_member.delete(one(owner))

    assert response.status_code == 403
    assert api_error(response)["detail"] == "Only owners can do this; your role in Acme is member."
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_an_unknown_member_id_is_not_found(as_owner):
    response = as_owner.delete(MEMBERS + "/999999")

    assert response.status_code == 404
