"""Who gets what from every page of the dashboard.

Each row is one URL and one method, with the status each caller must get:
- owner, member, auditor: people of Acme, the organization the URL names;
- outsider: signed in, an owner of Globex, not in Acme (404: Acme does not exist for them);
- anonymous: not signed in (302 to the sign-in page).

A POST row's status for the roles allowed to act is what a valid submission answers (the bodies
are in POST_BODIES): 302 to the next page after success, except where noted. A GET on a POST-only
page, or a POST on a read-only page, is 405 for everybody, before anything else is checked.

The URL patterns are read from Django's resolver, so a page added without a row here fails
test_every_page_has_a_row_for_get_and_post.
"""

from typing import NamedTuple

import pytest
from django.conf import settings
from django.shortcuts import resolve_url

from tests.responses import text
from tests.web.conftest import ROLES
from tests.web.pages import page_routes, route_params, url_for


class Row(NamedTuple):
    route: str
    method: str
    owner: int
    member: int
    auditor: int
    outsider: int
    anonymous: int


# fmt: off
MATRIX = [
    #   route                 method  owner member auditor outsider anonymous
    # Where to land: the outsider lands in their own organization.
    Row("home",               "GET",  302,  302,   302,    302,     302),
    Row("home",               "POST", 405,  405,   405,    405,     405),
    Row("org_home",           "GET",  302,  302,   302,    404,     302),
    Row("org_home",           "POST", 405,  405,   405,    405,     405),
    # The inventory: owners run it, auditors read it.
    Row("connector_list",     "GET",  200,  403,   200,    404,     302),
    Row("connector_list",     "POST", 405,  405,   405,    405,     405),
    Row("connector_add",      "GET",  200,  403,   403,    404,     302),
    Row("connector_add",      "POST", 302,  403,   403,    404,     302),
    Row("connector_detail",   "GET",  200,  403,   200,    404,     302),
    Row("connector_detail",   "POST", 405,  405,   405,    405,     405),
    Row("connector_edit",     "GET",  200,  403,   403,    404,     302),
    Row("connector_edit",     "POST", 302,  403,   403,    404,     302),
    Row("connector_tools",    "GET",  405,  405,   405,    405,     405),
    Row("connector_tools",    "POST", 302,  403,   403,    404,     302),
    # Tool governance: owners approve or block a connector's tools (auditors read them on its
    # page); owners and auditors read every change health checks found.
    Row("connector_tool_review", "GET",  405, 405, 405,    405,     405),
    Row("connector_tool_review", "POST", 302, 403, 403,    404,     302),
    Row("tool_changes",       "GET",  200,  403,   200,    404,     302),
    Row("tool_changes",       "POST", 405,  405,   405,    405,     405),
    Row("connector_remove",   "GET",  200,  403,   403,    404,     302),
    Row("connector_remove",   "POST", 302,  403,   403,    404,     302),
    # The authorization server of a connector's own OAuth client: owners confirm it (Acme's
    # wiki has none: back to its page with the reason; tests/oauth/ confirm a real one).
    Row("connector_issuer_confirm", "GET",  405, 405, 405, 405,     405),
    Row("connector_issuer_confirm", "POST", 302, 403, 403, 404,     302),
    # Health checks: owners start them (the run's page, or the connector's, follows them);
    # auditors may watch a run.
    Row("health_check_all",   "GET",  405,  405,   405,    405,     405),
    Row("health_check_all",   "POST", 302,  403,   403,    404,     302),
    Row("health_check_now",   "GET",  405,  405,   405,    405,     405),
    Row("health_check_now",   "POST", 302,  403,   403,    404,     302),
    Row("health_run",         "GET",  200,  403,   200,    404,     302),
    Row("health_run",         "POST", 405,  405,   405,    405,     405),
    Row("health_run_progress", "GET", 200,  403,   200,    404,     302),
    Row("health_run_progress", "POST", 405, 405,   405,    405,     405),
    # Each person's own connections: auditors hold none.
    Row("my_connectors",      "GET",  200,  200,   403,    404,     302),
    Row("my_connectors",      "POST", 405,  405,   405,    405,     405),
    Row("connection_enable",  "GET",  405,  405,   405,    405,     405),
    Row("connection_enable",  "POST", 302,  302,   403,    404,     302),
    Row("connection_disable", "GET",  405,  405,   405,    405,     405),
    Row("connection_disable", "POST", 302,  302,   403,    404,     302),
    # Acme's wiki does not use OAuth: those who may authorize are sent back to My connectors
    # with the reason (tests/oauth/ follow the redirect to a real authorization server).
    Row("connection_authorize", "GET",  405, 405,  405,    405,     405),
    Row("connection_authorize", "POST", 302, 302,  403,    404,     302),
    # The authorization server sends the member back here: whoever is signed in gets a page
    # saying the answer is not theirs to complete (400) without a state they started.
    Row("oauth_callback",     "GET",  400,  400,   400,    400,     302),
    Row("oauth_callback",     "POST", 405,  405,   405,    405,     405),
    # The same, at the address of one authorization server's authorizations.
    Row("oauth_callback_issuer", "GET",  400, 400, 400,    400,     302),
    Row("oauth_callback_issuer", "POST", 405, 405, 405,    405,     405),
    # Public on purpose: authorization servers fetch a client's metadata document, signed out.
    Row("oauth_client_metadata", "GET",  200, 200, 200,    200,     200),
    Row("oauth_client_metadata", "POST", 405, 405, 405,    405,     405),
    # Members and invitations: owners only.
    Row("member_list",        "GET",  200,  403,   403,    404,     302),
    Row("member_list",        "POST", 405,  405,   405,    405,     405),
    Row("member_invite",      "GET",  405,  405,   405,    405,     405),
    Row("member_invite",      "POST", 302,  403,   403,    404,     302),
    Row("member_role",        "GET",  405,  405,   405,    405,     405),
    Row("member_role",        "POST", 302,  403,   403,    404,     302),
    Row("member_remove",      "GET",  200,  403,   403,    404,     302),
    Row("member_remove",      "POST", 302,  403,   403,    404,     302),
    Row("invitation_revoke",  "GET",  405,  405,   405,    405,     405),
    Row("invitation_revoke",  "POST", 302,  403,   403,    404,     302),
    # The link is the credential: anyone may open it. Only a visitor without an account can
    # take it (302, signed in to the new account); people signed in as someone other than
    # the invited address are refused with a page that says so (400).
    Row("invitation_accept",  "GET",  200,  200,   200,    200,     200),
    Row("invitation_accept",  "POST", 400,  400,   400,    400,     302),
    # The plan: owners only.
    Row("plan",               "GET",  200,  403,   403,    404,     302),
    Row("plan",               "POST", 405,  405,   405,    405,     405),
    Row("plan_preview",       "GET",  200,  403,   403,    404,     302),
    Row("plan_preview",       "POST", 405,  405,   405,    405,     405),
    Row("plan_request",       "GET",  405,  405,   405,    405,     405),
    Row("plan_request",       "POST", 302,  403,   403,    404,     302),
    # The audit trail: owners and auditors.
    Row("audit_list",         "GET",  200,  403,   200,    404,     302),
    Row("audit_list",         "POST", 405,  405,   405,    405,     405),
    Row("audit_detail",       "GET",  200,  403,   200,    404,     302),
    Row("audit_detail",       "POST", 405,  405,   405,    405,     405),
    Row("audit_export",       "GET",  200,  403,   200,    404,     302),
    Row("audit_export",       "POST", 405,  405,   405,    405,     405),
    Row("audit_digests",      "GET",  200,  403,   200,    404,     302),
    Row("audit_digests",      "POST", 302,  403,   302,    404,     302),
    Row("audit_digests_json", "GET",  200,  403,   200,    404,     302),
    Row("audit_digests_json", "POST", 405,  405,   405,    405,     405),
    # Usage: owners and auditors, like the trail.
    Row("usage",              "GET",  200,  403,   200,    404,     302),
    Row("usage",              "POST", 405,  405,   405,    405,     405),
    Row("usage_tool_calls",   "GET",  200,  403,   200,    404,     302),
    Row("usage_tool_calls",   "POST", 405,  405,   405,    405,     405),
    # Keeping tool-call bodies is the owners' choice; reading them, the auditors' only.
    Row("tool_call_bodies_setting", "GET",  405, 405, 405, 405,     405),
    Row("tool_call_bodies_setting", "POST", 302, 403, 403, 404,     302),
    Row("tool_call_body",     "GET",  403,  403,   200,    404,     302),
    Row("tool_call_body",     "POST", 405,  405,   405,    405,     405),
    Row("usage_events",       "GET",  200,  403,   200,    404,     302),
    Row("usage_events",       "POST", 405,  405,   405,    405,     405),
    Row("usage_export",       "GET",  200,  403,   200,    404,     302),
    Row("usage_export",       "POST", 405,  405,   405,    405,     405),
    # An export prepared by a worker: only whoever asked for it sees it (each their own here).
    Row("export_detail",      "GET",  200,  403,   200,    404,     302),
    Row("export_detail",      "POST", 405,  405,   405,    405,     405),
    Row("export_download",    "GET",  200,  403,   200,    404,     302),
    Row("export_download",    "POST", 405,  405,   405,    405,     405),
    # API tokens: everyone manages their own. Creating one answers the page that shows it
    # once (200), not a redirect that would lose it.
    Row("api_token_list",     "GET",  200,  200,   200,    404,     302),
    Row("api_token_list",     "POST", 200,  200,   200,    404,     302),
    Row("api_token_revoke",   "GET",  405,  405,   405,    405,     405),
    Row("api_token_revoke",   "POST", 302,  302,   302,    404,     302),
    # Use with the API: each person's own configuration (POST reveals its tokens on the page);
    # auditors hold no connections.
    Row("messages_api_config", "GET", 200,  200,   403,    404,     302),
    Row("messages_api_config", "POST", 200, 200,   403,    404,     302),
    # The zero data retention setting, on the plan page: owners only.
    Row("organization_zdr",   "GET",  405,  405,   405,    405,     405),
    Row("organization_zdr",   "POST", 302,  403,   403,    404,     302),
    # The two-factor requirement, on the plan page: owners only.
    Row("organization_mfa",   "GET",  405,  405,   405,    405,     405),
    Row("organization_mfa",   "POST", 302,  403,   403,    404,     302),
    # Tool-call quotas: owners only.
    Row("quota_list",         "GET",  200,  403,   403,    404,     302),
    Row("quota_list",         "POST", 302,  403,   403,    404,     302),
    Row("quota_delete",       "GET",  405,  405,   405,    405,     405),
    Row("quota_delete",       "POST", 302,  403,   403,    404,     302),
    # The gateway's live view and kill switch: owners only.
    Row("gateway_live",       "GET",  200,  403,   403,    404,     302),
    Row("gateway_live",       "POST", 405,  405,   405,    405,     405),
    Row("gateway_session_end", "GET", 405,  405,   405,    405,     405),
    # The body names no member here: back to the page with the reason;
    # tests/gateway/test_live.py ends a real session.
    Row("gateway_session_end", "POST", 302, 403,   403,    404,     302),
    Row("connector_pause",    "GET",  405,  405,   405,    405,     405),
    Row("connector_pause",    "POST", 302,  403,   403,    404,     302),
    # Calls waiting for approval: owners, and members they name, answer them (this member is not
    # named; tests/web/test_approvers.py names one); owners name the approvers.
    Row("approval_list",      "GET",  200,  403,   403,    404,     302),
    Row("approval_list",      "POST", 405,  405,   405,    405,     405),
    Row("approval_decide",    "GET",  405,  405,   405,    405,     405),
    Row("approval_decide",    "POST", 302,  403,   403,    404,     302),
    Row("approval_approver",  "GET",  405,  405,   405,    405,     405),
    Row("approval_approver",  "POST", 302,  403,   403,    404,     302),
    Row("approval_settings",  "GET",  405,  405,   405,    405,     405),
    Row("approval_settings",  "POST", 302,  403,   403,    404,     302),
    # The tool governance settings, on the plan page: owners only.
    Row("organization_tool_governance", "GET",  405, 405, 405, 405, 405),
    Row("organization_tool_governance", "POST", 302, 403, 403, 404, 302),
    # The gateway: how members' apps reach servers, and the endpoints to add to Claude (owners).
    Row("add_to_claude",      "GET",  200,  403,   403,    404,     302),
    Row("add_to_claude",      "POST", 405,  405,   405,    405,     405),
    Row("member_apps_reach",  "GET",  405,  405,   405,    405,     405),
    Row("member_apps_reach",  "POST", 302,  403,   403,    404,     302),
    # Sign-in (SCIM tokens and what the identity provider provisioned): owners only. Creating a
    # token answers the page that shows it once (200).
    Row("sign_in_settings",   "GET",  200,  403,   403,    404,     302),
    Row("sign_in_settings",   "POST", 200,  403,   403,    404,     302),
    # Single sign-on, on the Sign-in page: owners only (an issuer at a private address is
    # refused, back to the page with the reason).
    Row("sso_settings",       "GET",  405,  405,   405,    405,     405),
    Row("sso_settings",       "POST", 302,  403,   403,    404,     302),
    Row("sso_remove",         "GET",  405,  405,   405,    405,     405),
    Row("sso_remove",         "POST", 302,  403,   403,    404,     302),
    # The login page's "Sign in with single sign-on": anyone; an address no organization signs
    # in with is answered with the reason (400) and a way back to the login page.
    Row("sso_login",          "GET",  405,  405,   405,    405,     405),
    Row("sso_login",          "POST", 400,  400,   400,    400,     400),
    # Claimed domains and requiring single sign-on, on the Sign-in page: owners only. Acme's
    # domain is verified already (verifying it again changes nothing); Acme has no single
    # sign-on set up, so requiring it is refused back to the page with the reason.
    Row("domain_claim",       "GET",  405,  405,   405,    405,     405),
    Row("domain_claim",       "POST", 302,  403,   403,    404,     302),
    Row("domain_verify",      "GET",  405,  405,   405,    405,     405),
    Row("domain_verify",      "POST", 302,  403,   403,    404,     302),
    Row("domain_release",     "GET",  405,  405,   405,    405,     405),
    Row("domain_release",     "POST", 302,  403,   403,    404,     302),
    Row("require_sso",        "GET",  405,  405,   405,    405,     405),
    Row("require_sso",        "POST", 302,  403,   403,    404,     302),
    # The operator's break-glass link is the credential, good for whoever holds it: the token
    # here is no link's, so everybody gets the page saying it is not valid
    # (tests/identity/require_sso/ use real links).
    Row("break_glass",        "GET",  400,  400,   400,    400,     400),
    Row("break_glass",        "POST", 400,  400,   400,    400,     400),
    # Who may connect a connector, on its page: owners only.
    Row("connector_access",   "GET",  405,  405,   405,    405,     405),
    Row("connector_access",   "POST", 302,  403,   403,    404,     302),
    # Groups (made in the dashboard, beside SCIM's): owners only.
    Row("groups",             "GET",  200,  403,   403,    404,     302),
    Row("groups",             "POST", 302,  403,   403,    404,     302),
    Row("group_rename",       "GET",  405,  405,   405,    405,     405),
    Row("group_rename",       "POST", 302,  403,   403,    404,     302),
    Row("group_delete",       "GET",  405,  405,   405,    405,     405),
    Row("group_delete",       "POST", 302,  403,   403,    404,     302),
    Row("group_members",      "GET",  405,  405,   405,    405,     405),
    Row("group_members",      "POST", 302,  403,   403,    404,     302),
    # Not about an organization: anyone signed in may migrate a request (POST shows it).
    Row("mcp_request_migrate", "GET", 200,  200,   200,    200,     302),
    Row("mcp_request_migrate", "POST", 200, 200,   200,    200,     302),
]
# fmt: on

# A valid submission for every page that takes a POST.
POST_BODIES = {
    "connector_add": {
        "name": "Docs search",
        "url": "https://docs.example.com/mcp",
        "transport": "auto",
        "auth": "none",
        "tool_default": "allow",
    },
    "connector_edit": {"name": "Renamed wiki", "transport": "auto", "auth": "none"},
    "connector_tools": {
        "default": "block",
        "new_tool": "delete_page",
        "new_tool_decision": "block",
    },
    "connector_tool_review": {"action": "approve_all"},
    "organization_tool_governance": {"changed_tools": "hold"},
    "member_invite": {"email": "invitee@example.com", "role": "member"},
    "connector_issuer_confirm": {"issuer": "https://as.example.com"},
    "member_role": {"role": "auditor"},
    "invitation_accept": {
        "password1": "Unusual-passphrase-71",
        "password2": "Unusual-passphrase-71",
    },
    "plan_request": {"plan": "enterprise"},
    "api_token_list": {"name": "Deploy bot", "scopes": ["read"]},
    "sign_in_settings": {"name": "Okta"},
    "connector_access": {"who_may_connect": "everyone"},
    "sso_settings": {
        "protocol": "oidc",
        "issuer": "https://10.0.0.1",
        "client_id": "orgconnectors",
        "client_secret": "s",
    },
    "sso_login": {"email": "someone@nowhere.test"},
    "domain_claim": {"domain": "new.example.com"},
    "require_sso": {"require_sso": "true"},
    "groups": {"name": "Support team"},
    "group_rename": {"name": "Renamed team"},
    "group_members": {"action": "remove"},
    "organization_zdr": {"requires_zero_data_retention": "true"},
    "organization_mfa": {"require_mfa": "true"},
    "connector_pause": {"paused": "true"},
    "approval_decide": {"decision": "deny"},
    "approval_approver": {"approver": "true"},
    "approval_settings": {"timeout_seconds": "60"},
    "quota_list": {"connector": "", "tool_name": "", "per_minute": "30", "per_day": "1000"},
    "member_apps_reach": {"member_apps_reach": "gateway"},
    "mcp_request_migrate": {
        "request_body": '{"mcp_servers": [{"type": "url", "url": "https://a.example/mcp", '
        '"name": "a", "tool_configuration": {"enabled": false}}]}'
    },
}
GET_QUERIES = {
    "plan_preview": {"plan": "enterprise"},
    "audit_export": {"format": "csv"},
    "usage_export": {"format": "jsonl"},
}

# Another organization's object behind this organization's URL: the same 404 as an absent one,
# even for an owner. invitation_accept is not here: its token is not an id within an
# organization but the credential itself, good for whoever holds the link.
FOREIGN_OBJECT_ROWS = [
    ("connector_detail", "GET"),
    ("connector_access", "POST"),
    ("connector_edit", "GET"),
    ("connector_edit", "POST"),
    ("connector_tools", "POST"),
    ("connector_tool_review", "POST"),
    ("connector_issuer_confirm", "POST"),
    ("connector_remove", "GET"),
    ("connector_remove", "POST"),
    ("health_check_now", "POST"),
    ("health_run", "GET"),
    ("health_run_progress", "GET"),
    ("connection_enable", "POST"),
    ("connection_disable", "POST"),
    ("connection_authorize", "POST"),
    ("member_role", "POST"),
    ("member_remove", "GET"),
    ("member_remove", "POST"),
    ("invitation_revoke", "POST"),
    ("audit_detail", "GET"),
    ("export_detail", "GET"),
    ("export_download", "GET"),
    ("api_token_revoke", "POST"),
    ("quota_delete", "POST"),
    ("connector_pause", "POST"),
    ("approval_decide", "POST"),
    ("approval_approver", "POST"),
    ("tool_call_body", "GET"),
    ("domain_verify", "POST"),
    ("domain_release", "POST"),
    ("group_rename", "POST"),
    ("group_delete", "POST"),
    ("group_members", "POST"),
]
# oauth_client_metadata: the document is public and names no organization; any client of
# another kind is 404 (tests/oauth/test_client_metadata_document.py). oauth_callback_issuer:
# its key names an authorization server, not an object; the state decides (tests/oauth/).
NOT_ORGANIZATION_SCOPED = {
    "invitation_accept",
    "oauth_client_metadata",
    "oauth_callback_issuer",
    "break_glass",
}

FORM_METHODS = ("GET", "POST")
OTHER_METHODS = ("PUT", "PATCH", "DELETE")


def call(client, method: str, name: str, url: str):
    if method == "GET":
        return client.get(url, GET_QUERIES.get(name, {}))
    if method == "POST":
        return client.post(url, POST_BODIES.get(name, {}))
    return client.generic(method, url)


def test_every_page_has_a_row_for_get_and_post():
    listed = [(row.route, row.method) for row in MATRIX]
    assert len(listed) == len(set(listed)), "a page and method are listed twice"
    expected = {(name, method) for name in page_routes() for method in FORM_METHODS}
    assert set(listed) == expected


def test_every_page_with_an_object_id_is_in_the_foreign_object_matrix():
    with_ids = {
        (row.route, row.method)
        for row in MATRIX
        if row.route not in NOT_ORGANIZATION_SCOPED
        and set(route_params(row.route)) - {"slug"}
        and row.owner != 405
    }
    assert set(FOREIGN_OBJECT_ROWS) == with_ids


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=lambda row: f"{row.method}-{row.route}")
def test_each_role_gets_its_status(row, role, world, client_as):
    url = url_for(row.route, world.acme, role=role)

    response = call(client_as(role), row.method, row.route, url)

    expected = getattr(row, role)
    body = text(response)
    assert response.status_code == expected, body[:2000]
    if expected == 403:
        assert "your role in Acme is" in body
    if expected == 404:
        # Not found says nothing of what is there.
        assert "Acme" not in body
    login = resolve_url(settings.LOGIN_URL)
    if expected == 302 and role == "anonymous" and row.route != "invitation_accept":
        assert response["Location"].startswith(login + "?next=")
    elif expected == 302:
        assert not response["Location"].startswith(login)


@pytest.mark.parametrize("role", ["owner", "anonymous"])
@pytest.mark.parametrize("method", OTHER_METHODS)
def test_no_page_takes_put_patch_or_delete(method, role, world, client_as):
    client = client_as(role)
    for name in page_routes():
        response = call(client, method, name, url_for(name, world.acme, role=role))
        assert response.status_code == 405, name


@pytest.mark.parametrize("route, method", FOREIGN_OBJECT_ROWS)
def test_another_organizations_object_is_not_found_even_by_an_owner(
    route, method, world, client_as
):
    # Acme's URL with the id of Globex's object: Globex's own owner has such an object, so the
    # 404 comes from the object being foreign, not absent.
    url = url_for(route, world.globex, role="owner", slug="acme")

    response = call(client_as("owner"), method, route, url)

    assert response.status_code == 404
    assert "globex" not in text(response).lower()
