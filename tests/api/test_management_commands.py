"""The operators' commands: create_api_token, create_org, add_member, set_plan."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.organizations.models import Membership, Organization
from tests.api.conftest import ApiClient
from tests.factories import ConnectionFactory, ConnectorFactory

User = get_user_model()
Role = Membership.Role


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# create_api_token


def test_create_api_token_prints_the_token_alone_and_it_authenticates(owner):
    out, err = run("create_api_token", "--user", "OWNER@acme.test", "--org", "acme")

    assert re.fullmatch(r"oc_[A-Za-z0-9_-]{43}\n", out)
    token = out.strip()
    # What a person reads goes to stderr, so TOKEN=$(...) captures the token and nothing else.
    assert "It is shown only now" in err
    assert token not in err
    api_token = ApiToken.objects.get()
    assert (api_token.user, api_token.name, api_token.scopes) == (
        owner.user,
        "Command line",
        ["read", "connections", "admin", "mcp"],
    )
    assert abs(api_token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    response = ApiClient(Client(), token).get("/api/v1/orgs/acme")
    assert response.status_code == 200
    assert response.json()["role"] == "owner"


def test_create_api_token_sets_a_name_and_an_expiry(member):
    run("create_api_token", "--user", "member@acme.test", "--org", "acme", "--name", "CI",
        "--expires-days", "30")  # fmt: skip

    api_token = ApiToken.objects.get()
    assert api_token.name == "CI"
    assert abs(api_token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.actor_label == "command:create_api_token"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--user", "nobody@acme.test", "--org", "acme"],
            "There is no account for nobody@acme.test.",
        ),
        (["--user", "owner@acme.test", "--org", "nowhere"], "There is no organization 'nowhere'."),
        (
            ["--user", "owner@globex.test", "--org", "acme"],
            "owner@globex.test is not a member of 'acme'; add them first with add_member.",
        ),
        (
            ["--user", "owner@acme.test", "--org", "acme", "--expires-days", "0"],
            "--expires-days must be at least 1.",
        ),
        (
            ["--user", "owner@acme.test", "--org", "acme", "--name", " "],
            "Name the token after the app that will use it.",
        ),
    ],
)
def test_create_api_token_says_why_it_cannot(owner, other_owner, args, message):
    with pytest.raises(CommandError) as refused:
        run("create_api_token", *args)

    assert str(refused.value) == message
    assert not ApiToken.objects.exists()


# create_org


def test_create_org_creates_the_organization_and_its_owner(db):
    out, _err = run(
        "create_org", "initech", "--name", "Initech", "--plan", "enterprise",
        "--owner", "Boss@Initech.test", "--password", "Unusual-passphrase-71",
    )  # fmt: skip

    organization = Organization.objects.get(slug="initech")
    assert (organization.name, organization.plan.code) == ("Initech", "enterprise")
    owner = Membership.objects.get(organization=organization)
    assert (owner.user.email, owner.role) == ("boss@initech.test", Role.OWNER)
    assert owner.user.check_password("Unusual-passphrase-71")
    assert out == (
        "Created Initech (initech) on the Enterprise plan, owned by boss@initech.test.\n"
    )
    assert set(AuditEvent.objects.values_list("action", "actor_label")) == {
        ("organization.created", "command:create_org"),
        ("membership.added", "command:create_org"),
    }


def test_create_org_gives_an_existing_account_the_new_organization(owner):
    run(
        "create_org", "initech", "--name", "Initech", "--plan", "team", "--owner", "owner@acme.test"
    )

    assert owner.user.memberships.count() == 2
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["acme", "--name", "Acme again", "--plan", "team", "--owner", "new@example.com"],
            "The slug 'acme' is already taken; choose another.",
        ),
        (
            ["initech", "--name", "Initech", "--plan", "gold", "--owner", "new@example.com"],
            "There is no plan 'gold'; choose one of: free, pro, max, team, enterprise.",
        ),
        (
            ["initech", "--name", "Initech", "--plan", "team", "--owner", "not-an-email"],
            "'not-an-email' is not an email address.",
        ),
        (
            ["initech", "--name", " ", "--plan", "team", "--owner", "new@example.com"],
            "The organization needs a name.",
        ),
    ],
)
def test_create_org_says_why_it_cannot_and_leaves_nothing_behind(org, args, message):
    with pytest.raises(CommandError) as refused:
        run("create_org", *args)

    assert str(refused.value) == message
    assert list(Organization.objects.values_list("slug", flat=True)) == ["acme"]
    assert not User.objects.filter(email="new@example.com").exists()


# add_member


def test_add_member_adds_a_person_with_a_role(org):
    out, _err = run("add_member", "acme", "New@Example.com", "--role", "auditor")

    membership = Membership.objects.get(organization=org, user__email="new@example.com")
    assert membership.role == Role.AUDITOR
    assert out == "Added new@example.com to Acme as auditor.\n"
    event = AuditEvent.objects.get(action="membership.added")
    assert event.actor_label == "command:add_member"


@pytest.mark.parametrize(
    "args, message",
    [
        (["nowhere", "new@example.com", "--role", "member"], "There is no organization 'nowhere'."),
        (["acme", "member@acme.test", "--role", "owner"], "member@acme.test is already in Acme."),
        (["acme", "not-an-email", "--role", "member"], "'not-an-email' is not an email address."),
    ],
)
def test_add_member_says_why_it_cannot(member, args, message):
    with pytest.raises(CommandError) as refused:
        run("add_member", *args)

    assert str(refused.value) == message
    member.refresh_from_db()
    assert member.role == Role.MEMBER
    assert not User.objects.filter(email="new@example.com").exists()


def test_add_member_lists_the_roles_it_knows(org):
    with pytest.raises(CommandError) as refused:
        run("add_member", "acme", "new@example.com", "--role", "admin")

    assert "invalid choice: 'admin'" in str(refused.value)
    assert "'owner', 'member', 'auditor'" in str(refused.value)


# set_plan


def test_set_plan_moves_the_organization_and_says_whose_connections_it_suspended(member, org):
    for name in ("Alpha", "Beta", "Gamma"):
        ConnectionFactory(
            membership=member, connector=ConnectorFactory(organization=org, name=name)
        )

    out, _err = run("set_plan", "acme", "free")

    org.refresh_from_db()
    assert org.plan.code == "free"
    assert Connection.objects.filter(state=Connection.State.SUSPENDED).count() == 2
    lines = out.splitlines()
    assert lines[0] == "Acme is now on the Free plan: 1 connection(s) per member (was 10)."
    assert lines[1].startswith("Suspended for member@acme.test: ")
    assert len(lines[1].split(": ")[1].split(", ")) == 2


def test_set_plan_says_until_when_older_events_are_kept_after_a_shorter_retention(org):
    out, _err = run("set_plan", "acme", "pro")

    org.refresh_from_db()
    assert (
        f"Audit events are now kept 90 days; older ones stay until "
        f"{org.audit_retention_grace_until:%Y-%m-%d} (the former 365 days)."
    ) in out
    event = AuditEvent.objects.get(organization=org, action="organization.plan_changed")
    assert event.actor_label == "operator (set_plan)"


def test_set_plan_takes_a_limit_on_enterprise(org):
    out, _err = run("set_plan", "acme", "enterprise", "--limit", "40")

    org.refresh_from_db()
    assert org.max_enabled_connections == 40
    assert out.splitlines() == [
        "Acme is now on the Enterprise plan: 40 connection(s) per member (was 10).",
        "No connection was suspended.",
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["nowhere", "free"], "There is no organization 'nowhere'."),
        (
            ["acme", "gold"],
            "There is no plan 'gold'; choose one of: free, pro, max, team, enterprise.",
        ),
        (
            ["acme", "pro", "--limit", "40"],
            "Only plans that allow an override (Enterprise) take a custom limit; Pro uses 5.",
        ),
    ],
)
def test_set_plan_says_why_it_cannot(org, args, message):
    with pytest.raises(CommandError) as refused:
        run("set_plan", *args)

    assert str(refused.value) == message
    org.refresh_from_db()
    assert org.plan.code == "team"
