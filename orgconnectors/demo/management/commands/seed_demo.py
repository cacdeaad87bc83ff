"""Demo data for `make run`: an organization with every role, a personal account, connectors.

Besides three directory entries, Acme's connectors are the demo's own MCP servers on this machine
(orgconnectors/demo/, started by run_dev), so health checks show real results offline.

Everything goes through the services, so the audit trail shows what the demo did. Running it again
changes nothing: each step first looks for what it would create, except that demo connectors an
older version registered at http:// move to the https:// addresses the demo now serves. The
passwords are fixed and printed because this only ever runs on a developer's machine.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.directory import directory_entry
from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.selectors import connection_for
from orgconnectors.connectors.services import connector_register
from orgconnectors.connectors.urls_canonical import canonical_url
from orgconnectors.core.actor import Actor
from orgconnectors.core.errors import ServiceError
from orgconnectors.demo.catalog import DEMO_SERVERS, DemoServer
from orgconnectors.demo.services import demo_connector_move_to_https
from orgconnectors.organizations.models import Membership, Organization
from orgconnectors.organizations.services import (
    membership_add,
    organization_create,
    plan_get,
    user_get_or_create,
)

Role = Membership.Role
ACTOR = Actor.system("seed_demo")


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    where: str


ACME_PEOPLE = (
    # email, role, password
    ("owner@acme.example", Role.OWNER, "demo-owner-pass"),
    ("alice@acme.example", Role.MEMBER, "demo-alice-pass"),
    ("bob@acme.example", Role.MEMBER, "demo-bob-pass"),
    ("auditor@acme.example", Role.AUDITOR, "demo-auditor-pass"),
)
ACME_DIRECTORY_CONNECTORS = ("linear", "notion", "sentry")
# Who connects what: (member email, directory slug or demo server key). The demo servers need
# no sign-in, so these connections are live at once.
ACME_CONNECTIONS = (
    ("alice@acme.example", "tracker"),
    ("alice@acme.example", "linear"),
    ("bob@acme.example", "tracker"),
    ("bob@acme.example", "wiki"),
)
SOLO = ("solo@example.com", "demo-solo-pass", "solo")
ADMIN = ("admin@acme.example", "demo-admin-pass")


def _account(email: str, password: str):
    """The user, created with the demo password, or given it back if someone changed it."""
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is None or not user.check_password(password):
        user = user_get_or_create(email=email, password=password)
    return user


def _organization(*, slug: str, name: str, plan_code: str, owner) -> Organization:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        organization = organization_create(
            slug=slug, name=name, plan=plan_get(code=plan_code), owner=owner, actor=ACTOR
        )
    return organization


def _member(organization: Organization, user, role: str) -> Membership:
    membership = Membership.objects.filter(organization=organization, user=user).first()
    if membership is None:
        membership = membership_add(organization=organization, user=user, role=role, actor=ACTOR)
    return membership


def _demo_connector(organization: Organization, demo: DemoServer) -> Connector:
    """The demo server's connector; one an older seed_demo registered at http:// moves to https."""
    url = canonical_url(demo.url())
    older = Connector.objects.filter(organization=organization, url=canonical_url(demo.http_url()))
    existing = older.first()
    if (
        existing is not None
        and not Connector.objects.filter(organization=organization, url=url).exists()
    ):
        return demo_connector_move_to_https(connector=existing, url=url, actor=ACTOR)
    return _connector(organization, name=demo.name, url=demo.url(), auth=demo.auth)


def _connector(organization: Organization, *, directory_slug: str = "", **fields) -> Connector:
    url = fields.get("url") or directory_entry(directory_slug).url
    existing = Connector.objects.filter(organization=organization, url=canonical_url(url)).first()
    if existing is not None:
        return existing
    # A directory entry supplies its own name, URL, transport and authentication.
    fields.setdefault("name", "")
    fields.setdefault("url", "")
    return connector_register(
        organization=organization, actor=ACTOR, directory_slug=directory_slug, **fields
    )


def _connect(membership: Membership, connector: Connector) -> None:
    # Only a connection that was never made: one the member turned off stays off.
    if connection_for(membership=membership, connector=connector) is None:
        connection_enable(membership=membership, connector=connector, actor=ACTOR)


def _superuser(email: str, password: str):
    user = _account(email, password)
    if not (user.is_staff and user.is_superuser):
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    return user


class Command(BaseCommand):
    help = (
        "Create the demo organization Acme (Team plan, every role, connectors including the "
        "demo's MCP servers on this machine, connections), a Free personal account and an "
        "admin, then print their sign-in details. Safe to run again. For development only."
    )

    def handle(self, *args, **options):
        if not (settings.DEBUG or settings.DEV_MODE):
            raise CommandError(
                "seed_demo creates accounts with published passwords; it only runs with "
                "ORGCONNECTORS_DEV=1 or DJANGO_DEBUG=1."
            )
        if not settings.ORGCONNECTORS_ALLOW_LOOPBACK:
            raise CommandError(
                "seed_demo registers the demo's MCP servers on 127.0.0.1, which connectors may "
                "only use with ORGCONNECTORS_ALLOW_LOOPBACK=1 (make run sets it)."
            )
        try:
            with transaction.atomic():
                accounts = self._seed()
        except ServiceError as error:
            raise CommandError(f"The demo could not be created: {error.message}") from None
        self._print(accounts)

    def _seed(self) -> list[DemoAccount]:
        accounts = []
        users = {email: _account(email, password) for email, _, password in ACME_PEOPLE}
        owner_email = ACME_PEOPLE[0][0]
        acme = _organization(slug="acme", name="Acme", plan_code="team", owner=users[owner_email])
        memberships = {email: _member(acme, users[email], role) for email, role, _ in ACME_PEOPLE}
        for email, role, password in ACME_PEOPLE:
            where = f"Acme ({acme.plan.name} plan) · {Role(role).label.lower()}"
            accounts.append(DemoAccount(email, password, where))

        connectors = {
            slug: _connector(acme, directory_slug=slug) for slug in ACME_DIRECTORY_CONNECTORS
        }
        for demo in DEMO_SERVERS:
            connectors[demo.key] = _demo_connector(acme, demo)
        for email, key in ACME_CONNECTIONS:
            _connect(memberships[email], connectors[key])

        solo_email, solo_password, solo_slug = SOLO
        solo = _account(solo_email, solo_password)
        personal = _organization(
            slug=solo_slug, name=f"{solo_email} (personal)", plan_code="free", owner=solo
        )
        accounts.append(
            DemoAccount(solo_email, solo_password, f"own account ({personal.plan.name} plan)")
        )

        admin_email, admin_password = ADMIN
        _superuser(admin_email, admin_password)
        accounts.append(DemoAccount(admin_email, admin_password, "Django admin at /admin/"))
        return accounts

    def _print(self, accounts: list[DemoAccount]) -> None:
        login = settings.ORGCONNECTORS_BASE_URL + reverse("account_login")
        email_width = max(len(a.email) for a in accounts)
        password_width = max(len(a.password) for a in accounts)
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (sign in at {login}):")
        self.stdout.write(f"  {'Email':<{email_width}}  {'Password':<{password_width}}  Where")
        for account in accounts:
            self.stdout.write(
                f"  {account.email:<{email_width}}  {account.password:<{password_width}}  "
                f"{account.where}"
            )
        self.stdout.write("")
