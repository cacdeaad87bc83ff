"""SCIM tokens: created by owners (API, command), checked per organization, revoked."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from orgconnectors.audit.models import AuditEvent
from orgconnectors.core.actor import Actor
from orgconnectors.identity.models import ScimToken
from orgconnectors.identity.scim_tokens import scim_token_create, scim_token_revoke
from tests.api.conftest import token_client
from tests.scim.helpers import Scim

pytestmark = pytest.mark.django_db


def test_create_scim_token_prints_a_token_that_opens_the_organizations_endpoint(org):
    out, err = StringIO(), StringIO()

    call_command("create_scim_token", "acme", "--name", "Okta", stdout=out, stderr=err)

    secret = out.getvalue().strip()
    assert "/scim/v2/acme/" in err.getvalue()
    assert ScimToken.objects.get().name == "Okta"
    assert secret not in repr(ScimToken.objects.get())
    assert Scim(org, secret).request("GET", "Users").status_code == 200
    assert AuditEvent.objects.filter(action="scim_token.created").count() == 1


def test_create_scim_token_refuses_an_unknown_organization(db):
    with pytest.raises(CommandError, match="no organization 'nope'"):
        call_command("create_scim_token", "nope")


def test_another_organizations_token_or_none_is_a_401(org, other_org):
    _token, globex_secret = scim_token_create(
        organization=other_org, name="Globex IdP", actor=Actor.system("test")
    )

    for client in (Scim(org, globex_secret).client, Client()):
        response = client.get("/scim/v2/acme/Users")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/scim+json"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(org):
    token, secret = scim_token_create(organization=org, name="Okta", actor=Actor.system("t"))
    scim_token_revoke(token=token, actor=Actor.system("t"))

    assert Scim(org, secret).request("GET", "Users").status_code == 401


def test_an_owner_creates_a_token_through_the_api_and_it_is_shown_once(owner, actor):
    client = token_client(owner, actor=actor)

    created = client.post("/api/v1/orgs/acme/scim-tokens", {"name": "Entra ID"})

    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("ocscim_")
    assert body["scim_base_url"].endswith("/scim/v2/acme/")
    listed = client.get("/api/v1/orgs/acme/scim-tokens").json()
    assert [t["name"] for t in listed] == ["Entra ID"]
    assert "token" not in listed[0]


def test_a_member_may_not_create_a_scim_token(member, actor):
    refused = token_client(member, actor=actor).post(
        "/api/v1/orgs/acme/scim-tokens", {"name": "Mine"}
    )

    assert refused.status_code == 403
