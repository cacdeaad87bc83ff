"""The organizations, people and objects every web page test points its URLs at."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.api.tokens import api_token_create
from orgconnectors.audit.models import AuditEvent, ToolCallBody
from orgconnectors.connectors.models import CallApproval, Connector, Quota
from orgconnectors.health.models import HealthRun
from orgconnectors.health.services import health_check_all
from orgconnectors.identity.dashboard_groups import group_create, group_members_add
from orgconnectors.identity.models import ClaimedDomain, ScimGroup
from orgconnectors.oauth.models import OAuthClient
from orgconnectors.organizations.invitations import invitation_create
from orgconnectors.organizations.models import Invitation, Membership, Organization
from orgconnectors.reports.models import ExportJob
from tests.audit.jobs import finished_export
from tests.factories import ConnectorFactory

ROLES = ("owner", "member", "auditor", "outsider", "anonymous")


@dataclass
class Objects:
    """One of each object a URL can name, all in one organization."""

    organization: Organization
    connector: Connector
    # The member the owners' member pages act on.
    member: Membership
    invitation: Invitation
    invitation_token: str
    event: AuditEvent
    # A "Check all" of the organization, asked for by its owner (its tasks never run here).
    run: HealthRun
    # Each person's own API token (tokens can only be revoked by whoever holds them).
    tokens: dict[str, ApiToken]
    # A client identified by a Client ID Metadata Document, whose document is public.
    oauth_client: OAuthClient
    # Each auditing person's own finished export (only whoever asked for it may see it).
    export_jobs: dict[str, ExportJob]
    # An organization-wide tool-call quota.
    quota: Quota
    # A call waiting for an approver.
    approval: CallApproval
    # A kept tool-call body (auditors only).
    tool_call_body: ToolCallBody
    # A claimed email domain, verified already (by the operator).
    claimed_domain: ClaimedDomain
    # A group made in the dashboard, holding the target member.
    group: ScimGroup


@dataclass
class World:
    acme: Objects
    globex: Objects
    # Who calls, by role name; the outsider is signed in but belongs to Globex only.
    people: dict[str, Membership | None]


def _objects(organization, memberships: dict[str, Membership], target: Membership, actor):
    connector = ConnectorFactory(organization=organization, name=f"{organization.name} wiki")
    owner = memberships["owner"]
    invitation, token = invitation_create(
        organization=organization,
        email=f"newcomer@{organization.slug}.test",
        role=Membership.Role.MEMBER,
        actor=actor(owner),
    )
    tokens = {
        role: api_token_create(membership=m, name=f"{role} script", actor=actor(m))[0]
        for role, m in memberships.items()
    }
    oauth_client = OAuthClient.objects.create(
        connector=connector,
        issuer=f"https://auth.{organization.slug}.test",
        kind=OAuthClient.Kind.METADATA_DOCUMENT,
        authorization_endpoint=f"https://auth.{organization.slug}.test/authorize",
        token_endpoint=f"https://auth.{organization.slug}.test/token",
    )
    run_id = health_check_all(organization=organization, actor=actor(owner))
    group = group_create(organization=organization, name="Support", actor=actor(owner))
    group_members_add(group=group, membership_ids=[target.pk], actor=actor(owner))
    return Objects(
        organization=organization,
        connector=connector,
        member=target,
        invitation=invitation,
        invitation_token=token,
        event=AuditEvent.objects.filter(organization=organization).latest("id"),
        run=HealthRun.objects.get(pk=run_id),
        tokens=tokens,
        oauth_client=oauth_client,
        export_jobs={
            role: finished_export(m) for role, m in memberships.items() if m.can_read_audit
        },
        quota=Quota.objects.create(organization=organization, per_minute=60),
        approval=CallApproval.objects.create(
            organization=organization,
            connector=connector,
            membership=target,
            tool_name="delete_page",
            expires_at=timezone.now() + timedelta(minutes=2),
        ),
        tool_call_body=ToolCallBody.objects.create(
            organization=organization,
            call_id=f"{organization.slug:0<32}"[:32],
            tool="search",
            request={"value": {"query": "q"}},
            response={"value": {"content": []}},
        ),
        claimed_domain=ClaimedDomain.objects.create(
            organization=organization,
            domain=f"{organization.slug}.example.com",
            verification_token="token",
            verified_at=timezone.now(),
            verified_by=ClaimedDomain.Method.OPERATOR,
        ),
        group=group,
    )


@pytest.fixture
def world(
    org, owner, member, auditor, other_org, other_owner, other_member, actor, settings, tmp_path
) -> World:
    settings.ORGCONNECTORS_EXPORT_DIR = tmp_path / "exports"
    acme = _objects(org, {"owner": owner, "member": member, "auditor": auditor}, member, actor)
    globex = _objects(other_org, {"owner": other_owner}, other_member, actor)
    people = {
        "owner": owner,
        "member": member,
        "auditor": auditor,
        "outsider": other_owner,
        "anonymous": None,
    }
    return World(acme=acme, globex=globex, people=people)


@pytest.fixture
def client_as(world):
    """client_as("member") -> a test client signed in as that person (or nobody)."""

    def make(role: str) -> Client:
        client = Client()
        membership = world.people[role]
        if membership is not None:
            client.force_login(membership.user)
        return client

    return make
