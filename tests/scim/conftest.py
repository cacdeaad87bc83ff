"""A SCIM token of Acme's, and scim2-client's client for Acme's SCIM endpoint on the live
server (real HTTP on loopback)."""

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient

from orgconnectors.core.actor import Actor
from orgconnectors.identity.scim_tokens import scim_token_create


@pytest.fixture
def scim_secret(org, owner):
    _token, secret = scim_token_create(organization=org, name="Okta", actor=Actor(user=owner.user))
    return secret


@pytest.fixture
def scim_http(live_server, org, scim_secret):
    with httpx2.Client(
        base_url=f"{live_server.url}/scim/v2/{org.slug}",
        headers={"Authorization": f"Bearer {scim_secret}"},
    ) as client:
        yield client


@pytest.fixture
def scim_client(scim_http):
    client = SyncSCIMClient(scim_http)
    client.discover()
    return client
