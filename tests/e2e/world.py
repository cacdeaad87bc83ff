"""The organizations and people a journey starts from, made through the services (so the audit
trail holds what a real history would), with accounts that can sign in on the login page."""

from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.connectors.services import connector_register
from orgconnectors.core.actor import Actor
from orgconnectors.identity.domains import domain_claim, domain_verify_by_operator
from orgconnectors.organizations.invitations import invitation_create
from orgconnectors.organizations.models import Membership, Organization
from orgconnectors.organizations.plan_change import organization_change_plan
from orgconnectors.organizations.services import (
    membership_add,
    organization_create,
    plan_get,
    user_get_or_create,
)

PASSWORD = "e2e-pass-Walrus-42"
SETUP = Actor.system("e2e setup")
Role = Membership.Role


def organization(
    *, slug: str, name: str, plan: str, owner: str, limit: int | None = None
) -> Organization:
    """An organization on `plan` (with its own connection `limit`, on Enterprise) whose first
    owner has the email `owner`."""
    user = user_get_or_create(email=owner, password=PASSWORD)
    created = organization_create(
        slug=slug, name=name, plan=plan_get(code=plan), owner=user, actor=SETUP
    )
    if limit is not None:
        change_plan(created, plan, limit=limit)
    return created


def change_plan(org: Organization, plan: str, *, limit: int | None = None) -> None:
    """What an operator's `set_plan` does: suspends what no longer fits."""
    organization_change_plan(
        organization=org, plan=plan_get(code=plan), limit_override=limit, actor=SETUP
    )
    org.refresh_from_db()


def owner_of(org: Organization) -> Membership:
    return org.memberships.filter(role=Role.OWNER).select_related("user").earliest("pk")


def person(org: Organization, email: str, role: str = Role.MEMBER) -> Membership:
    """Someone in `org` with a verified email address and PASSWORD."""
    user = user_get_or_create(email=email, password=PASSWORD)
    return membership_add(organization=org, user=user, role=role, actor=SETUP)


def invite(org: Organization, email: str, role: str = Role.MEMBER) -> None:
    """An owner's invitation: the link goes to `email`'s mailbox (mail.outbox) only."""
    invitation_create(
        organization=org, email=email, role=role, actor=Actor(user=owner_of(org).user)
    )


def connector(
    org: Organization, name: str, *, url: str | None = None, auth: str = Connector.Auth.NONE
) -> Connector:
    """A connector an owner registered; unless `url` is given, its address is a name that never
    resolves."""
    slug = name.lower().replace(" ", "-")
    return connector_register(
        organization=org,
        actor=Actor(user=owner_of(org).user),
        name=name,
        url=url or f"https://{slug}.{org.slug}.test/mcp",
        auth=auth,
    )


def connect(membership: Membership, *connectors: Connector) -> list[Connection]:
    """Connect them in order (the last one is the most recently enabled)."""
    actor = Actor(user=membership.user)
    return [connection_enable(membership=membership, connector=c, actor=actor) for c in connectors]


def verified_domain(org: Organization, domain: str) -> None:
    """`org` claims `domain` and an operator verifies it (the DNS check is another test's)."""
    claimed, _record = domain_claim(organization=org, domain=domain, actor=SETUP)
    domain_verify_by_operator(claimed_domain=claimed, operator=SETUP)
