"""Every error of the JSON API has one shape, whatever went wrong: `code` for programs, `detail`
for people, `errors` by field; two codes add what a program needs to act on them."""

import pytest
from django.core.cache import cache
from django.test import Client

from orgconnectors.api.tokens import api_token_create
from orgconnectors.api.urls import api
from tests.api.conftest import ApiClient, token_client
from tests.factories import ConnectorFactory
from tests.responses import ERROR_KEYS

pytestmark = pytest.mark.django_db

ACME = "/api/v1/orgs/acme"
# What a code adds to the shape, and nothing else does.
EXTENSIONS = {
    "connection_limit_reached": {"limit", "enabled"},
    "rate_limited": {"retry_after"},
}


@pytest.fixture
def one_request_a_minute(settings):
    settings.ORGCONNECTORS_CONFIG_RATE_LIMIT = "1/min"
    settings.REDIS_URL = None
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def _errors(owner, member, actor, org, plan) -> dict[str, object]:
    """One response of each kind of error, by what went wrong."""
    as_owner, as_member = token_client(owner, actor=actor), token_client(member, actor=actor)
    _token, secret = api_token_create(
        membership=owner, name="Read only", actor=actor(owner), scopes=["read"]
    )
    read_only = ApiClient(Client(), secret)
    org.plan = plan("free")
    org.save(update_fields=["plan"])
    first, second = ConnectorFactory(organization=org), ConnectorFactory(organization=org)
    as_member.put(f"{ACME}/connectors/{first.pk}/connection")
    return {
        "validation": as_owner.post(f"{ACME}/connectors", {"name": "Wiki", "colour": "blue"}),
        "not json": as_owner.client.post(
            f"{ACME}/connectors", "{", content_type="application/json", headers=as_owner.headers
        ),
        "service": as_owner.post(f"{ACME}/connectors", {"name": "", "url": first.url}),
        "no token": ApiClient(Client()).get(ACME),
        "role": as_member.post(f"{ACME}/connectors", {"name": "Docs", "url": first.url}),
        "scope": read_only.post(f"{ACME}/connectors", {"name": "Docs", "url": first.url}),
        "not found": as_owner.get("/api/v1/orgs/no-such-organization"),
        "limit": as_member.put(f"{ACME}/connectors/{second.pk}/connection"),
        "rate limit": [as_member.get(f"{ACME}/messages-api-config") for _ in range(2)][-1],
    }


def test_every_kind_of_error_answers_the_same_keys(
    owner, member, actor, org, plan, one_request_a_minute
):
    responses = _errors(owner, member, actor, org, plan)

    statuses = {kind: response.status_code for kind, response in responses.items()}
    assert statuses == {
        "validation": 400,
        "not json": 400,
        "service": 400,
        "no token": 401,
        "role": 403,
        "scope": 403,
        "not found": 404,
        "limit": 409,
        "rate limit": 429,
    }
    for kind, response in responses.items():
        body = response.json()
        assert set(body) == ERROR_KEYS | EXTENSIONS.get(body["code"], set()), kind
        assert isinstance(body["detail"], str) and body["detail"], kind
        assert body["errors"] and all(
            isinstance(messages, list) and all(isinstance(m, str) for m in messages)
            for messages in body["errors"].values()
        ), kind
    codes = {kind: response.json()["code"] for kind, response in responses.items()}
    assert codes == {
        "validation": "invalid",
        "not json": "invalid",
        "service": "invalid",
        "no token": "unauthenticated",
        "role": "forbidden",
        "scope": "forbidden",
        "not found": "not_found",
        "limit": "connection_limit_reached",
        "rate limit": "rate_limited",
    }


def test_a_field_error_names_its_field_in_errors_and_in_detail(as_owner):
    response = as_owner.post(f"{ACME}/connectors", {"name": "Wiki", "colour": "blue"})

    body = response.json()
    assert body["errors"]["colour"] == ["This field is not accepted here; remove it."]
    assert "colour: This field is not accepted here; remove it." in body["detail"]


def test_the_openapi_document_gives_every_error_the_one_shape():
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    shapes = set()
    for methods in schema["paths"].values():
        for operation in methods.values():
            for status, answer in operation["responses"].items():
                if str(status).startswith(("4", "5")):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    name = ref.rsplit("/", 1)[-1]
                    assert ERROR_KEYS <= set(components[name]["required"]), (status, name)
                    shapes.add(name)
    assert shapes == {"ErrorOut", "LimitReachedOut", "RateLimitedOut", "StaleToolHashOut"}
