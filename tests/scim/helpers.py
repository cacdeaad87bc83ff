"""Speaking SCIM to the endpoint through Django's test client (no live server needed)."""

import json

import httpx2
from django.test import Client

from orgconnectors.core.actor import Actor
from orgconnectors.identity.models import ScimUser
from orgconnectors.identity.scim_tokens import scim_token_create
from orgconnectors.identity.services import ScimPerson, scim_user_create

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Scim:
    def __init__(self, organization, secret: str | None = None):
        if secret is None:
            _token, secret = scim_token_create(
                organization=organization, name="IdP", actor=Actor.system("test")
            )
        self.base = f"/scim/v2/{organization.slug}/"
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def request(self, method: str, path: str, body: dict | None = None):
        return self.client.generic(
            method,
            self.base + path,
            data=json.dumps(body) if body is not None else "",
            content_type="application/scim+json",
        )

    def deactivate(self, scim_user: ScimUser):
        return self.request(
            "PATCH",
            f"Users/{scim_user.pk}",
            {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
        )


def provisioned(membership) -> ScimUser:
    """The identity provider takes over an existing member: the same account, found by email."""
    return scim_user_create(
        organization=membership.organization,
        person=ScimPerson(
            user_name=membership.user.email,
            external_id="",
            active=True,
            emails=[membership.user.email],
            document={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": membership.user.email,
                "active": True,
            },
        ),
        actor=Actor.system("test"),
    )


def deactivate_over_http(base_url: str, membership) -> dict:
    """As an identity provider does: provision `membership`'s person, then PATCH `active: false`
    to the live /scim/v2/{org}/ endpoint with a SCIM token; the User resource it answers."""
    scim_user = provisioned(membership)
    _token, secret = scim_token_create(
        organization=membership.organization, name="Okta", actor=Actor.system("test")
    )
    answer = httpx2.patch(
        f"{base_url}/scim/v2/{membership.organization.slug}/Users/{scim_user.pk}",
        json={
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/scim+json"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()
