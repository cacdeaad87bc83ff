"""Who gets what from every operation of the JSON API.

Each row is one path and method, with the status each caller must get:
- owner, member, auditor: people of Acme, the organization in the path;
- outsider: an owner of Globex, not in Acme (404: Acme does not exist for them);
- anonymous: no token, no session (401).

A write's status for the roles allowed to make it is what a valid request answers (the bodies are
in BODIES). Every row is checked with a personal API token and with the dashboard's session
(sending the CSRF token, as the dashboard's scripts do).

The operations are read from the ninja API itself, so an operation added without a row here fails
test_every_operation_has_a_row.
"""

from typing import NamedTuple

import pytest

from tests.api.conftest import ROLES
from tests.api.operations import path_for, path_params, routed_paths, schema_operations
from tests.responses import ERROR_KEYS, NOT_FOUND, text


class Row(NamedTuple):
    method: str
    path: str
    owner: int
    member: int
    auditor: int
    outsider: int
    anonymous: int


ORG = "/api/v1/orgs/{org}"
CONNECTOR = ORG + "/connectors/{connector_id}"
MEMBER = ORG + "/members/{member_id}"
RUN = ORG + "/health-runs/{run_id}"
TOKEN = ORG + "/api-tokens/{token_id}"
EXPORT = ORG + "/exports/{job_id}"
CALL_BODY = ORG + "/tool-calls/{call_id}/body"
GROUP = ORG + "/groups/{group_id}"
MEMBER_OF_GROUP = GROUP + "/members/{member_id}"
OPERATOR_ORG = "/api/v1/operator/orgs/{org}"
DOMAIN = ORG + "/domains/{domain_id}"

# fmt: off
MATRIX = [
    #   method    path                           owner member auditor outsider anonymous
    Row("GET",    ORG,                            200,  200,   200,    404,     401),
    # Connectors: everyone reads them, owners change them.
    Row("GET",    ORG + "/connectors",            200,  200,   200,    404,     401),
    Row("POST",   ORG + "/connectors",            201,  403,   403,    404,     401),
    Row("GET",    CONNECTOR,                      200,  200,   200,    404,     401),
    Row("PATCH",  CONNECTOR,                      200,  403,   403,    404,     401),
    Row("DELETE", CONNECTOR,                      204,  403,   403,    404,     401),
    Row("PUT",    CONNECTOR + "/tool-policy",     200,  403,   403,    404,     401),
    # Tool governance: everyone reads a connector's approved listing, owners review it, owners
    # and auditors list the changes health checks found.
    Row("GET",    CONNECTOR + "/tools",           200,  200,   200,    404,     401),
    Row("POST",   CONNECTOR + "/tools/approve",   200,  403,   403,    404,     401),
    # Acme's wiki was never checked, so it lists no tool to block (400, after the access
    # checks); tests/api/test_tools.py blocks a listed one.
    Row("POST",   CONNECTOR + "/tools/block",     400,  403,   403,    404,     401),
    Row("GET",    ORG + "/tool-changes",          200,  403,   200,    404,     401),
    # The authorization server of a connector's own OAuth client: owners confirm it, auditors
    # read it. Acme's wiki has no OAuth client of its own, so there is none to show (400);
    # tests/oauth/test_client_issuer.py gets a 200 from a real server.
    Row("GET",    CONNECTOR + "/oauth-issuer",    400,  403,   400,    404,     401),
    Row("PUT",    CONNECTOR + "/oauth-issuer",    400,  403,   403,    404,     401),
    # Health checks: owners start them (202, the run's id); owners and auditors follow a run.
    Row("POST",   CONNECTOR + "/check",           202,  403,   403,    404,     401),
    Row("POST",   ORG + "/health-runs",           202,  403,   403,    404,     401),
    Row("GET",    RUN,                            200,  403,   200,    404,     401),
    # Connections: each person's own; auditors hold none, but may see they have none.
    Row("PUT",    CONNECTOR + "/connection",      200,  200,   403,    404,     401),
    Row("DELETE", CONNECTOR + "/connection",      200,  200,   403,    404,     401),
    # Acme's wiki does not use OAuth: those who may ask for more scopes are told it needs no
    # authorization (400); tests/oauth/test_step_up.py gets a 200 from a real server.
    Row("POST",   CONNECTOR + "/connection/step-up", 400, 400, 403,    404,     401),
    Row("GET",    ORG + "/connections",           200,  200,   200,    404,     401),
    # Members: owners only.
    Row("GET",    ORG + "/members",               200,  403,   403,    404,     401),
    Row("POST",   ORG + "/members",               201,  403,   403,    404,     401),
    Row("PATCH",  MEMBER,                         200,  403,   403,    404,     401),
    Row("DELETE", MEMBER,                         204,  403,   403,    404,     401),
    # The audit trail: owners and auditors.
    Row("GET",    ORG + "/audit-events",          200,  403,   200,    404,     401),
    Row("GET",    ORG + "/audit-events/export",   200,  403,   200,    404,     401),
    # Its signed digests: owners and auditors read them and sign one now; the public key
    # that verifies them is anyone's.
    Row("GET",    ORG + "/audit-digests",         200,  403,   200,    404,     401),
    Row("POST",   ORG + "/audit-digests",         201,  403,   201,    404,     401),
    Row("GET",    "/api/v1/audit-public-key",     200,  200,   200,    200,     200),
    # Usage events and exports: owners and auditors. The export in the path is the owner's:
    # nobody else sees it, not even another auditor of Acme.
    Row("GET",    ORG + "/usage-events",          200,  403,   200,    404,     401),
    Row("GET",    ORG + "/usage/tool-calls",      200,  403,   200,    404,     401),
    # Kept tool-call bodies: auditors only, not even owners.
    Row("GET",    CALL_BODY,                      403,  403,   200,    404,     401),
    Row("GET",    ORG + "/usage-events/export",   200,  403,   200,    404,     401),
    Row("GET",    EXPORT,                         200,  403,   404,    404,     401),
    Row("GET",    EXPORT + "/download",           200,  403,   404,    404,     401),
    # The Messages API configuration: each person's own connections; auditors hold none.
    Row("GET",    ORG + "/messages-api-config",   200,  200,   403,    404,     401),
    # API tokens: everyone manages their own. The token in the path is the member's, so
    # anyone else gets the 404 of a token that is not theirs.
    Row("GET",    ORG + "/api-tokens",            200,  200,   200,    404,     401),
    Row("POST",   ORG + "/api-tokens",            201,  201,   201,    404,     401),
    Row("DELETE", TOKEN,                          404,  204,   404,    404,     401),
    # SCIM tokens for the identity provider: owners only.
    Row("GET",    ORG + "/scim-tokens",           200,  403,   403,    404,     401),
    Row("POST",   ORG + "/scim-tokens",           201,  403,   403,    404,     401),
    # Single sign-on: owners only. The PUT's issuer is a private address (400, after access);
    # tests/identity/sso/ configures a real provider.
    Row("GET",    ORG + "/sso",                   200,  403,   403,    404,     401),
    Row("PUT",    ORG + "/sso",                   400,  403,   403,    404,     401),
    Row("DELETE", ORG + "/sso",                   204,  403,   403,    404,     401),
    # Claimed email domains: owners only. Acme's domain in the path is verified already, so
    # verifying it again answers it as it is (tests/identity/domains/ verify through real DNS).
    Row("GET",    ORG + "/domains",               200,  403,   403,    404,     401),
    Row("POST",   ORG + "/domains",               201,  403,   403,    404,     401),
    Row("POST",   DOMAIN + "/verify",             200,  403,   403,    404,     401),
    Row("DELETE", DOMAIN,                         204,  403,   403,    404,     401),
    # Who may connect a connector: owners choose.
    Row("PUT",    CONNECTOR + "/access",          200,  403,   403,    404,     401),
    # Groups, SCIM's and the dashboard's: owners only. Adding with no member chosen is a 400
    # after the access checks (tests/api/test_groups.py adds one).
    Row("GET",    ORG + "/groups",                200,  403,   403,    404,     401),
    Row("POST",   ORG + "/groups",                201,  403,   403,    404,     401),
    Row("GET",    GROUP,                          200,  403,   403,    404,     401),
    Row("PATCH",  GROUP,                          200,  403,   403,    404,     401),
    Row("DELETE", GROUP,                          204,  403,   403,    404,     401),
    Row("POST",   GROUP + "/members",             400,  403,   403,    404,     401),
    Row("DELETE", MEMBER_OF_GROUP,                200,  403,   403,    404,     401),
    # Tool-call quotas: owners set them, owners and auditors read them.
    Row("GET",    ORG + "/quotas",                200,  403,   200,    404,     401),
    Row("PUT",    ORG + "/quotas",                200,  403,   403,    404,     401),
    Row("DELETE", ORG + "/quotas/{quota_id}",     204,  403,   403,    404,     401),
    # The plan is the operator's: owners ask for a change; PUT says so to everyone in Acme.
    Row("POST",   ORG + "/plan-requests",         201,  403,   403,    404,     401),
    Row("PUT",    ORG + "/plan",                  403,  403,   403,    404,     401),
    # The operator API takes only an operator token: no organization token, no session.
    Row("GET",    OPERATOR_ORG,                   401,  401,   401,    401,     401),
    Row("PUT",    OPERATOR_ORG + "/plan",         401,  401,   401,    401,     401),
    # Not about an organization: anyone signed in (the outsider too) may migrate a request.
    Row("POST",   "/api/v1/tools/migrate-mcp-request", 200, 200, 200,  200,     401),
]
# fmt: on

BODIES = {
    ("POST", ORG + "/connectors"): {"name": "Docs search", "url": "https://docs.example.com/mcp"},
    ("PATCH", CONNECTOR): {"name": "Renamed wiki"},
    ("PUT", CONNECTOR + "/tool-policy"): {"default": "block", "overrides": {"search": True}},
    ("POST", CONNECTOR + "/tools/approve"): {"all": True},
    ("POST", CONNECTOR + "/tools/block"): {"tools": ["search"]},
    ("POST", ORG + "/members"): {"email": "invitee@example.com", "role": "member"},
    ("PATCH", MEMBER): {"role": "auditor"},
    ("POST", CONNECTOR + "/connection/step-up"): {"scope": "tools:write"},
    ("PUT", CONNECTOR + "/oauth-issuer"): {"issuer": "https://as.example.com"},
    ("POST", ORG + "/api-tokens"): {"name": "Deploy bot", "expires_in_days": 30},
    ("POST", ORG + "/scim-tokens"): {"name": "Okta"},
    ("PUT", ORG + "/sso"): {
        "protocol": "oidc",
        "issuer": "https://10.0.0.1",
        "client_id": "orgconnectors",
        "client_secret": "s",
    },
    ("POST", ORG + "/domains"): {"domain": "new.example.com"},
    ("PUT", CONNECTOR + "/access"): {"who_may_connect": "everyone"},
    ("POST", ORG + "/groups"): {"display_name": "Night shift"},
    ("PATCH", GROUP): {"display_name": "Help"},
    ("POST", GROUP + "/members"): {"member_ids": []},
    ("POST", ORG + "/plan-requests"): {"plan": "enterprise", "connection_limit": 40},
    ("PUT", ORG + "/plan"): {"plan": "enterprise", "connection_limit": 40},
    ("PUT", OPERATOR_ORG + "/plan"): {"plan": "enterprise", "connection_limit": 40},
    ("PUT", ORG + "/quotas"): {"per_minute": 30, "per_day": 1000},
    ("POST", "/api/v1/tools/migrate-mcp-request"): {
        "mcp_servers": [{"type": "url", "url": "https://a.example/mcp", "name": "a"}]
    },
}

# Another organization's connector or member behind Acme's path: 404, even for Acme's owner.
FOREIGN_OBJECT_ROWS = [
    ("GET", CONNECTOR),
    ("PUT", CONNECTOR + "/access"),
    ("PATCH", CONNECTOR),
    ("DELETE", CONNECTOR),
    ("PUT", CONNECTOR + "/tool-policy"),
    ("GET", CONNECTOR + "/tools"),
    ("POST", CONNECTOR + "/tools/approve"),
    ("POST", CONNECTOR + "/tools/block"),
    ("GET", CONNECTOR + "/oauth-issuer"),
    ("PUT", CONNECTOR + "/oauth-issuer"),
    ("POST", CONNECTOR + "/check"),
    ("GET", RUN),
    ("PUT", CONNECTOR + "/connection"),
    ("DELETE", CONNECTOR + "/connection"),
    ("POST", CONNECTOR + "/connection/step-up"),
    ("PATCH", MEMBER),
    ("DELETE", MEMBER),
    ("DELETE", TOKEN),
    ("GET", EXPORT),
    ("GET", EXPORT + "/download"),
    ("GET", CALL_BODY),
    ("DELETE", ORG + "/quotas/{quota_id}"),
    ("POST", DOMAIN + "/verify"),
    ("DELETE", DOMAIN),
    ("GET", GROUP),
    ("PATCH", GROUP),
    ("DELETE", GROUP),
    ("POST", GROUP + "/members"),
    ("DELETE", MEMBER_OF_GROUP),
]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# Query strings a GET needs to succeed.
QUERIES = {
    ("GET", ORG + "/audit-events/export"): {"format": "csv"},
    ("GET", ORG + "/usage-events/export"): {"format": "jsonl"},
}


def call(client, method: str, path: str, url: str):
    if method == "GET":
        return client.get(url, QUERIES.get((method, path)))
    return client.send(method, url, BODIES.get((method, path)))


def test_every_operation_has_a_row():
    listed = [(row.method, row.path) for row in MATRIX]
    assert len(listed) == len(set(listed)), "an operation is listed twice"
    assert set(listed) == schema_operations()
    assert routed_paths() == {path for _method, path in schema_operations()}


def test_every_operation_with_an_object_id_is_in_the_foreign_object_matrix():
    with_ids = {(row.method, row.path) for row in MATRIX if set(path_params(row.path)) - {"org"}}
    assert set(FOREIGN_OBJECT_ROWS) == with_ids


def _cases():
    for row in MATRIX:
        for role in ROLES:
            auths = ["none"] if role == "anonymous" else ["token", "session"]
            for auth in auths:
                yield pytest.param(row, role, auth, id=f"{row.method}-{row.path}-{role}-{auth}")


@pytest.mark.parametrize("row, role, auth", list(_cases()))
def test_each_role_gets_its_status(row, role, auth, world, api_as):
    url = path_for(row.path, world.acme)

    response = call(api_as(role, auth), row.method, row.path, url)

    expected = getattr(row, role)
    assert response.status_code == expected, text(response)[:2000]
    if expected == 404:
        assert response.json() == NOT_FOUND
    if expected in (401, 403):
        assert set(response.json()) == ERROR_KEYS


@pytest.mark.parametrize("role", ["owner", "anonymous"])
def test_a_method_an_operation_does_not_have_is_405(role, world, api_as):
    client = api_as(role)
    paths = {path for _method, path in schema_operations()}
    for path in paths:
        for method in set(HTTP_METHODS) - {m for m, p in schema_operations() if p == path}:
            response = call(client, method, path, path_for(path, world.acme))
            assert response.status_code == 405, f"{method} {path}"


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("method, path", FOREIGN_OBJECT_ROWS)
def test_another_organizations_object_is_not_found_even_by_an_owner(
    method, path, auth, world, api_as
):
    url = path_for(path, world.globex, org="acme")

    response = call(api_as("owner", auth), method, path, url)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
