"""Callers of the JSON API: by personal API token, by the dashboard's session, or nobody."""

import json
from dataclasses import dataclass

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import ToolCallBody
from orgconnectors.connectors.models import Connector, Quota
from orgconnectors.core.actor import Actor
from orgconnectors.health.models import HealthRun
from orgconnectors.identity.dashboard_groups import group_create, group_members_add
from orgconnectors.identity.models import ClaimedDomain, ScimGroup
from orgconnectors.organizations.models import Membership, Organization
from orgconnectors.reports.models import ExportJob
from tests.audit.jobs import finished_export
from tests.factories import ConnectorFactory

ROLES = ("owner", "member", "auditor", "outsider", "anonymous")


class ApiClient:
    """A test client that speaks JSON and carries a bearer token, if given."""

    def __init__(self, client: Client, token: str | None = None, headers: dict | None = None):
        self.client = client
        self.headers = dict(headers or {})
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, params: dict | None = None, *, headers: dict | None = None):
        return self.client.get(path, params or {}, headers={**self.headers, **(headers or {})})

    def send(self, method: str, path: str, body=None, *, headers: dict | None = None):
        data = "" if body is None else json.dumps(body)
        return self.client.generic(
            method,
            path,
            data,
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )

    def post(self, path: str, body=None, **kwargs):
        return self.send("POST", path, body, **kwargs)

    def put(self, path: str, body=None, **kwargs):
        return self.send("PUT", path, body, **kwargs)

    def patch(self, path: str, body=None, **kwargs):
        return self.send("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.send("DELETE", path, **kwargs)


def token_client(membership: Membership, *, actor, name: str = "Test script") -> ApiClient:
    _api_token, token = api_token_create(membership=membership, name=name, actor=actor(membership))
    return ApiClient(Client(), token)


def session_client(membership: Membership, *, with_csrf: bool = True) -> ApiClient:
    """Signed in to the dashboard, checking CSRF like a browser would; with_csrf sends the
    token the dashboard's pages give their scripts (cookie and X-CSRFToken header)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(membership.user)
    headers = {}
    if with_csrf:
        secret = _get_new_csrf_string()
        client.cookies["csrftoken"] = secret
        headers["X-CSRFToken"] = secret
    return ApiClient(client, headers=headers)


@pytest.fixture
def api_as(world, actor):
    """api_as("member", auth="token" | "session") -> an ApiClient calling as that person."""

    def make(role: str, auth: str = "token") -> ApiClient:
        membership = world.people[role]
        if membership is None:
            return ApiClient(Client())
        if auth == "token":
            return token_client(membership, actor=actor)
        return session_client(membership)

    return make


@dataclass
class Objects:
    organization: Organization
    connector: Connector
    # The member the owners' member endpoints act on.
    member: Membership
    # A "Check all" of the organization (its tasks never run here).
    run: HealthRun
    # Another API token of `member`: only its holder may revoke it.
    api_token: ApiToken
    # A finished export, asked for by the organization's owner (only they may see it).
    export_job: ExportJob
    # A kept tool-call body (auditors only).
    tool_call_body: ToolCallBody
    # An organization-wide tool-call quota.
    quota: Quota
    # A claimed email domain, verified already (by the operator).
    claimed_domain: ClaimedDomain
    # A group made in the dashboard, holding `member`.
    group: ScimGroup


def _run(organization: Organization) -> HealthRun:
    return HealthRun.objects.create(
        organization=organization, kind=HealthRun.Kind.ALL, total=0, finished_at=timezone.now()
    )


def _group(membership: Membership) -> ScimGroup:
    group = group_create(
        organization=membership.organization, name="Support", actor=Actor.system("test")
    )
    return group_members_add(
        group=group, membership_ids=[membership.pk], actor=Actor.system("test")
    )


def _body(organization: Organization) -> ToolCallBody:
    return ToolCallBody.objects.create(
        organization=organization,
        call_id=f"{organization.slug:0<32}"[:32],
        tool="search",
        request={"value": {"query": "q"}},
        response={"value": {"content": []}},
    )


def _verified_domain(organization: Organization) -> ClaimedDomain:
    return ClaimedDomain.objects.create(
        organization=organization,
        domain=f"{organization.slug}.example.com",
        verification_token="token",
        verified_at=timezone.now(),
        verified_by=ClaimedDomain.Method.OPERATOR,
    )


def _spare_token(membership: Membership) -> ApiToken:
    return api_token_create(membership=membership, name="Spare", actor=Actor.system("tests"))[0]


@dataclass
class World:
    acme: Objects
    globex: Objects
    # The outsider is an owner of Globex, not in Acme; their token is Globex's.
    people: dict[str, Membership | None]


@pytest.fixture
def world(
    org, owner, member, auditor, other_org, other_owner, other_member, settings, tmp_path
) -> World:
    settings.ORGCONNECTORS_EXPORT_DIR = tmp_path / "exports"
    return World(
        acme=Objects(
            org,
            ConnectorFactory(organization=org, name="Acme wiki"),
            member,
            _run(org),
            _spare_token(member),
            finished_export(owner),
            _body(org),
            Quota.objects.create(organization=org, per_minute=60),
            _verified_domain(org),
            _group(member),
        ),
        globex=Objects(
            other_org,
            ConnectorFactory(organization=other_org, name="Globex wiki"),
            other_member,
            _run(other_org),
            _spare_token(other_member),
            finished_export(other_owner),
            _body(other_org),
            Quota.objects.create(organization=other_org, per_minute=60),
            _verified_domain(other_org),
            _group(other_member),
        ),
        people={
            "owner": owner,
            "member": member,
            "auditor": auditor,
            "outsider": other_owner,
            "anonymous": None,
        },
    )


@pytest.fixture
def as_owner(owner, actor) -> ApiClient:
    return token_client(owner, actor=actor)


@pytest.fixture
def as_member(member, actor) -> ApiClient:
    return token_client(member, actor=actor)


@pytest.fixture
def as_auditor(auditor, actor) -> ApiClient:
    return token_client(auditor, actor=actor)
