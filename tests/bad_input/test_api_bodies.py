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
