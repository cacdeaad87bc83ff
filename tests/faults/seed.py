"""Rows for the fault tests, written by a Django process on the test's own stack.

Run through `Stack.run_python`: each function prints one JSON line the test reads back.
"""

import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.core.actor import Actor
from orgconnectors.encryption import encrypt
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from orgconnectors.organizations.models import Membership
from tests.factories import ConnectorFactory, MembershipFactory, OrganizationFactory


def _say(**values) -> None:
    print(json.dumps(values))


def organization(*, slug: str, connector_url: str = "") -> None:
    """An organization with an owner who has an API token and a signed-in browser session,
    and a connector (at `connector_url`, by default a name that does not resolve)."""
    from orgconnectors.api.tokens import api_token_create

    org = OrganizationFactory(slug=slug, name=slug.title())
    owner = MembershipFactory(
        organization=org, role=Membership.Role.OWNER, user__email=f"owner@{slug}.test"
    )
    ConnectorFactory(
        organization=org,
        name="Docs",
        url=connector_url or f"https://docs.{slug}.invalid/mcp",
        next_check_at=timezone.now() + timedelta(days=1),
    )
    _, token = api_token_create(membership=owner, name="fault tests", actor=Actor.system("seed"))
    browser = Client()
    browser.force_login(owner.user)
    _say(token=token, session=browser.cookies["sessionid"].value)


def connectors(*, slug: str, urls: list[str], interval: int = 300) -> None:
    """Connectors at `urls`, due for a check now."""
    org = OrganizationFactory(slug=slug, name=slug.title())
    made = [
        ConnectorFactory(
            organization=org,
            name=f"Server {index}",
            url=url,
            check_interval_seconds=interval,
            next_check_at=timezone.now() - timedelta(seconds=1),
        )
        for index, url in enumerate(urls)
    ]
    _say(ids=[connector.pk for connector in made])


def due_credential(*, slug: str, token_endpoint: str, expires_in: int = 600) -> None:
    """A member's enabled OAuth connection whose credential is due for a refresh now."""
    org = OrganizationFactory(slug=slug, name=slug.title())
    member = MembershipFactory(
        organization=org, role=Membership.Role.MEMBER, user__email=f"member@{slug}.test"
    )
    issuer = token_endpoint.rsplit("/", 1)[0]
    connector = ConnectorFactory(
        organization=org,
        name="Tracker",
        url=f"{issuer}/mcp",
        auth=Connector.Auth.OAUTH,
        next_check_at=timezone.now() + timedelta(days=1),
    )
    connection = Connection.objects.create(
        membership=member,
        connector=connector,
        state=Connection.State.ENABLED,
        enabled_at=timezone.now(),
    )
    client = OAuthClient.objects.create(
        connector=connector,
        issuer=issuer,
        kind=OAuthClient.Kind.DYNAMIC,
        client_id="fault-client",
        authorization_endpoint=f"{issuer}/authorize",
        token_endpoint=token_endpoint,
    )
    now = timezone.now()
    credential = OAuthCredential.objects.create(
        connection=connection,
        client=client,
        access_token_encrypted=encrypt("access-0"),
        refresh_token_encrypted=encrypt("refresh-0"),
        obtained_at=now,
        expires_at=now + timedelta(seconds=expires_in),
        next_refresh_at=now - timedelta(seconds=1),
    )
    _say(id=credential.pk, connection=connection.pk)
