"""API tokens carry scopes (`read`, `connections`, `admin`, `mcp`) and an expiry; every endpoint
says which scope it needs, and a token never mints a wider or longer-lived one than itself."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from orgconnectors.api.models import ApiToken
from orgconnectors.api.scopes import ANY_SCOPE, SCOPES
from orgconnectors.api.tokens import api_token_create
from orgconnectors.api.urls import api
from orgconnectors.connectors.models import Connector
from orgconnectors.core.errors import NotAllowed, ServiceError
from tests.api.conftest import ApiClient, session_client
from tests.responses import api_error

pytestmark = pytest.mark.django_db

ACME = "/api/v1/orgs/acme"
TOKENS = ACME + "/api-tokens"
NEW_CONNECTOR = {"name": "Docs search", "url": "https://docs.example.com/mcp"}


def _client(membership, actor, **kwargs) -> tuple[ApiToken, ApiClient]:
    api_token, secret = api_token_create(
        membership=membership, name="Script", actor=actor(membership), **kwargs
    )
    return api_token, ApiClient(Client(), secret)


# Every endpoint declares its scope


def _operations():
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield f"{' '.join(operation.methods)} {prefix}{path}", operation


def test_every_api_operation_declares_the_scope_a_token_needs():
    undeclared = [
        name
        for name, operation in _operations()
        if getattr(operation.view_func, "api_scope", None) not in (*SCOPES, ANY_SCOPE)
    ]

    assert len(list(_operations())) > 20
    assert undeclared == []


def test_the_openapi_document_tells_callers_each_operations_scope():
    paths = api.get_openapi_schema()["paths"]

    scopes = {
        operation["operationId"]: operation.get("x-token-scope")
        for methods in paths.values()
        for operation in methods.values()
    }

    assert scopes["connector_create"] == "admin"
    assert scopes["messages_api_config"] == "connections"
    assert scopes["audit_event_list"] == "read"
    assert None not in scopes.values()


# Refusals name the missing scope


def test_a_read_only_token_of_an_owner_reads_but_changes_nothing(owner, actor):
    _token, api_client = _client(owner, actor, scopes=["read"])

    read = api_client.get(ACME + "/connectors")
    refused = api_client.post(ACME + "/connectors", NEW_CONNECTOR)

    assert read.status_code == 200
    assert refused.status_code == 403
    assert api_error(refused)["detail"] == (
        "This token lacks the `admin` scope. Create a token with it on the "
        "organization's API tokens page (your role must allow it)."
    )
    assert not Connector.objects.exists()


def test_a_token_without_connections_gets_no_messages_api_configuration(member, actor):
    _token, api_client = _client(member, actor, scopes=["read"])

    response = api_client.get(ACME + "/messages-api-config")

    assert response.status_code == 403
    assert "lacks the `connections` scope" in response.json()["detail"]


def test_a_connections_only_token_cannot_read_the_organization(member, actor):
    _token, api_client = _client(member, actor, scopes=["connections"])

    response = api_client.get(ACME)

    assert response.status_code == 403
    assert "lacks the `read` scope" in response.json()["detail"]


def test_the_role_is_the_reason_given_when_it_could_never_have_the_scope(member, actor):
    _token, api_client = _client(member, actor)

    response = api_client.post(ACME + "/connectors", NEW_CONNECTOR)

    assert response.status_code == 403
    assert api_error(response)["detail"] == "Only owners can do this; your role in Acme is member."


def test_the_session_is_limited_by_the_role_alone(owner):
    response = session_client(owner).post(ACME + "/connectors", NEW_CONNECTOR)

    assert response.status_code == 201


# Scopes at creation


@pytest.mark.parametrize(
    "role, scopes",
    [
        ("owner", ["read", "connections", "admin", "mcp"]),
        ("member", ["read", "connections", "mcp"]),
        ("auditor", ["read"]),
    ],
)
def test_a_new_token_has_every_scope_its_role_allows(request, actor, role, scopes):
    membership = request.getfixturevalue(role)

    api_token, _secret = api_token_create(membership=membership, name="CI", actor=actor())

    assert api_token.scopes == scopes


@pytest.mark.parametrize(
    "role, scope", [("member", "admin"), ("auditor", "connections"), ("auditor", "admin")]
)
def test_nobody_gives_a_token_a_scope_their_role_lacks(request, actor, role, scope):
    membership = request.getfixturevalue(role)

    with pytest.raises(NotAllowed) as refused:
        api_token_create(membership=membership, name="CI", actor=actor(), scopes=[scope])

    assert f"not `{scope}`" in refused.value.message
    assert not ApiToken.objects.exists()


def test_the_api_creates_a_token_with_the_scopes_asked_for(owner, actor):
    _token, api_client = _client(owner, actor)

    created = api_client.post(TOKENS, {"name": "Reader", "scopes": ["read"]})

    assert created.status_code == 201, created.content
    assert created.json()["scopes"] == ["read"]
    reader = ApiClient(Client(), created.json()["token"])
    assert reader.post(ACME + "/connectors", NEW_CONNECTOR).status_code == 403


def test_a_token_cannot_create_a_token_with_more_scope_than_its_own(owner, actor):
    _token, api_client = _client(owner, actor, scopes=["read"])

    response = api_client.post(TOKENS, {"name": "Wider", "scopes": ["read", "admin"]})

    assert response.status_code == 403
    assert api_error(response)["detail"] == (
        "This token has only `read`, so it cannot create a token with `admin`."
    )
    assert ApiToken.objects.count() == 1


def test_a_token_cannot_create_a_token_that_outlives_it(owner, actor):
    _token, api_client = _client(owner, actor, expires_at=timezone.now() + timedelta(days=5))

    response = api_client.post(TOKENS, {"name": "Longer", "expires_in_days": 30})

    assert response.status_code == 403
    assert "cannot create a token that lasts longer" in response.json()["detail"]
    assert ApiToken.objects.count() == 1


def test_a_token_made_by_a_token_defaults_to_its_scopes_and_ends_with_it(owner, actor):
    parent, api_client = _client(
        owner, actor, scopes=["read"], expires_at=timezone.now() + timedelta(days=5)
    )

    created = api_client.post(TOKENS, {"name": "Child"})

    assert created.status_code == 201, created.content
    child = ApiToken.objects.get(pk=created.json()["id"])
    assert child.scopes == ["read"]
    assert child.expires_at == parent.expires_at


# Expiry


def test_a_token_expires_after_90_days_unless_told_otherwise(member, actor):
    api_token, secret = api_token_create(membership=member, name="CI", actor=actor(member))
    api_client = ApiClient(Client(), secret)

    assert abs(api_token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    with time_machine.travel(timezone.now() + timedelta(days=89), tick=False):
        assert api_client.get(ACME).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=91), tick=False):
        assert api_client.get(ACME).status_code == 401


def test_no_token_lasts_more_than_a_year(member, actor):
    with pytest.raises(ServiceError) as refused:
        api_token_create(
            membership=member,
            name="Forever",
            actor=actor(member),
            expires_at=timezone.now() + timedelta(days=366),
        )

    assert refused.value.field == "expires_at"
    assert "at most 365 days" in refused.value.message


# Last use


def test_last_use_is_recorded_at_most_once_a_minute_and_listed(member, actor):
    api_token, api_client = _client(member, actor)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        api_client.get(ACME)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        api_client.get(ACME)
        api_token.refresh_from_db()
        assert api_token.last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        (listed,) = api_client.get(TOKENS).json()

    assert listed["last_used_at"] is not None
    api_token.refresh_from_db()
    assert api_token.last_used_at == start + timedelta(seconds=61)
    assert listed["scopes"] == ["read", "connections", "mcp"]


# The command


def test_create_api_token_takes_repeatable_scopes(owner):
    out, err = StringIO(), StringIO()

    call_command(
        "create_api_token", "--user", "owner@acme.test", "--org", "acme",
        "--scope", "read", "--scope", "connections", stdout=out, stderr=err,
    )  # fmt: skip

    assert ApiToken.objects.get().scopes == ["read", "connections"]
    assert "scopes read connections" in err.getvalue()
