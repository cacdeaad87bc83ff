"""Every field of every JSON body the API reads, fed hostile values one at a time (the rest of
the body valid): the answer is a 4xx with a sentence or an acceptance, never a 500, and a
refused body leaves every table as it was."""

import pytest
from hypothesis import HealthCheck, given, settings

from orgconnectors.connectors.models import Connector
from tests.bad_input.checks import assert_refused_in_words_or_accepted
from tests.bad_input.strategies import any_json_field
from tests.factories import ConnectionFactory, ConnectorFactory, MembershipFactory

# (method, path with {connector} / {member}, a valid body, the fields to spoil one at a time)
OPERATIONS = [
    (
        "POST",
        "/api/v1/orgs/acme/connectors",
        {"name": "Docs", "url": "https://docs.example.com/mcp"},
        [
            "name",
            "url",
            "transport",
            "auth",
            "oauth_client_id",
            "oauth_client_secret",
            "tool_default",
            "directory_slug",
            "confirm_no_zdr",
        ],
    ),
    (
        "PATCH",
        "/api/v1/orgs/acme/connectors/{connector}",
        {"name": "Wiki"},
        ["name", "url", "transport", "auth", "oauth_client_id", "oauth_client_secret"],
    ),
    (
        "PUT",
        "/api/v1/orgs/acme/connectors/{connector}/tool-policy",
        {"default": "allow", "overrides": {"search": True}},
        ["default", "overrides"],
    ),
    (
        "POST",
        "/api/v1/orgs/acme/connectors/{connector}/connection/step-up",
        {"scope": "read"},
        ["scope"],
    ),
    ("POST", "/api/v1/orgs/acme/members", {"email": "new@example.com"}, ["email", "role"]),
    ("PATCH", "/api/v1/orgs/acme/members/{member}", {"role": "auditor"}, ["role"]),
    ("POST", "/api/v1/orgs/acme/api-tokens", {"name": "Script"}, ["name", "expires_in_days"]),
    (
        "POST",
        "/api/v1/tools/migrate-mcp-request",
        {"mcp_servers": [{"type": "url", "url": "https://a.example/mcp", "name": "a"}]},
        ["mcp_servers", "tools", "betas", "messages"],
    ),
]
CASES = [(method, path, body, name) for method, path, body, names in OPERATIONS for name in names]


@pytest.fixture
def targets(org, owner, plan):
    org.plan = plan("enterprise")
    org.save(update_fields=["plan"])
    wiki = ConnectorFactory(organization=org, name="Wiki", auth=Connector.Auth.OAUTH)
    ConnectionFactory(membership=owner, connector=wiki)
    member = MembershipFactory(organization=org, user__email="someone@acme.test")
    return {"connector": wiki.pk, "member": member.pk}


@pytest.mark.parametrize(("method", "path", "body", "name"), CASES)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=any_json_field)
def test_no_field_of_an_api_body_answers_a_server_error(
    owner_api, targets, stored, method, path, body, name, value
):
    before = stored()
    response = owner_api.send(method, path.format(**targets), {**body, name: value})
    assert_refused_in_words_or_accepted(response)
    if response.status_code >= 400:
        assert stored() == before, f"{response.status_code} but something was written"


LONE_SURROGATE = "Wiki \ud800"


@pytest.mark.parametrize(
    "body",
    [
        {"name": LONE_SURROGATE, "url": "https://docs.example.com/mcp"},
        {"name": "Docs", "url": "https://docs.example.com/" + LONE_SURROGATE},
        {"name": "Docs", "url": "https://docs.example.com/mcp", "oauth_client_id": LONE_SURROGATE},
        {
            "name": "Docs",
            "url": "https://docs.example.com/mcp",
            "auth": "oauth",
            "oauth_client_id": "client",
            "oauth_client_secret": LONE_SURROGATE,
        },
    ],
)
def test_a_lone_surrogate_in_a_connector_field_is_a_400_naming_the_field(owner_api, stored, body):
    before = stored()
    response = owner_api.post("/api/v1/orgs/acme/connectors", body)
    assert response.status_code == 400
    (field,) = response.json()["errors"]
    assert body[field] == LONE_SURROGATE or body[field].endswith(LONE_SURROGATE)
    assert "lone surrogate" in response.json()["errors"][field][0]
    assert stored() == before


def test_a_lone_surrogate_in_a_tool_name_of_the_policy_is_a_400(owner_api, targets, stored):
    before = stored()
    response = owner_api.put(
        f"/api/v1/orgs/acme/connectors/{targets['connector']}/tool-policy",
        {"default": "allow", "overrides": {LONE_SURROGATE: True}},
    )
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["errors"]["overrides"][0]
    assert stored() == before
