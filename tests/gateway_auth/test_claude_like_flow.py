"""A client that does the OAuth flow the way Claude.ai does: it reads the endpoint's protected
resource metadata, the authorization server's metadata, registers (dynamic registration, or a
Client ID Metadata Document), sends the member to the consent page with PKCE S256 and the
resource, and exchanges the code; the token is then good at that endpoint, and nowhere else."""

import httpx
import pytest

from orgconnectors.gateway.authorization.access_tokens import (
    check_access_token,
    member_for_access_token,
)
from tests.factories import MembershipFactory
from tests.gateway_auth.conftest import (
    CLAUDE_CALLBACK,
    authorize_url,
    endpoint_for,
    pkce_pair,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def discover(endpoint_url: str) -> tuple[dict, dict]:
    """RFC 9728 then RFC 8414, as an MCP client finds them from a 401."""
    unauthorized = httpx.post(endpoint_url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert unauthorized.status_code == 401
    challenge = unauthorized.headers["www-authenticate"]
    metadata_url = challenge.split('resource_metadata="')[1].split('"')[0]
    resource = httpx.get(metadata_url).json()
    issuer = resource["authorization_servers"][0]
    server = httpx.get(f"{issuer}/.well-known/oauth-authorization-server").json()
    return resource, server


def register(server: dict, redirect_uri: str = CLAUDE_CALLBACK) -> str:
    answer = httpx.post(
        server["registration_endpoint"],
        json={
            "client_name": "Claude",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["client_id"]


def exchange(server: dict, client_id: str, code: str, verifier: str, **extra) -> httpx.Response:
    return httpx.post(
        server["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "redirect_uri": extra.pop("redirect_uri", CLAUDE_CALLBACK),
            "code_verifier": verifier,
            **extra,
        },
    )


def authorize(browser, member, server, client_id, resource, redirect_uri=CLAUDE_CALLBACK):
    verifier, challenge = pkce_pair()
    url = authorize_url(
        server,
        response_type="code",
        client_id=client_id,
        redirect_uri=redirect_uri,
        state="st-1",
        code_challenge=challenge,
        code_challenge_method="S256",
        scope="openid",
        resource=resource,
    )
    back = browser(member).consent(url)
    assert back["_to"] == redirect_uri
    assert back["state"] == "st-1"
    return back["code"], verifier


def test_the_metadata_names_the_endpoint_and_orgconnectors_as_its_server(endpoint, base_url):
    resource, server = discover(endpoint.url)

    assert resource["resource"] == endpoint.url
    assert resource["authorization_servers"] == [base_url]
    assert resource["scopes_supported"] == ["openid"]
    assert server["issuer"] == base_url
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["client_id_metadata_document_supported"] is True
    assert server["registration_endpoint"].startswith(base_url)
    assert server["authorization_endpoint"] == f"{base_url}/identity/o/authorize"
    # allauth's OpenID Connect discovery says the same.
    oidc = httpx.get(f"{base_url}/.well-known/openid-configuration").json()
    assert oidc["token_endpoint"] == server["token_endpoint"]


def test_claude_registers_authorizes_and_gets_a_token_for_that_endpoint_only(
    endpoint, member, browser, upstream
):
    resource, server = discover(endpoint.url)
    client_id = register(server)

    code, verifier = authorize(browser, member, server, client_id, resource["resource"])
    answer = exchange(server, client_id, code, verifier, resource=endpoint.url)

    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"].lower() == "bearer"
    assert 0 < tokens["expires_in"] <= 900
    assert "refresh_token" in tokens
    assert member_for_access_token(token=tokens["access_token"], resource=endpoint.url) == member
    # Another endpoint of the same organization: not this token's audience.
    other = endpoint_for(member, upstream.url, name="Wiki")
    assert member_for_access_token(token=tokens["access_token"], resource=other.url) is None
    with pytest.raises(Exception, match="issued for another resource"):
        check_access_token(token=tokens["access_token"], resource=other.url)


def test_the_consent_page_names_the_connector_and_the_tools_the_client_will_reach(
    endpoint, member, browser
):
    resource, server = discover(endpoint.url)
    client_id = register(server)
    verifier_unused, challenge = pkce_pair()
    page = browser(member).open(
        authorize_url(
            server,
            response_type="code",
            client_id=client_id,
            redirect_uri=CLAUDE_CALLBACK,
            state="s",
            code_challenge=challenge,
            code_challenge_method="S256",
            scope="openid",
            resource=endpoint.url,
        )
    )

    assert page.status_code == 200
    assert "Allow Claude to use your connectors?" in page.text
    # Browsers hold the redirect after Allow to the page's form-action.
    assert "form-action 'self' https://claude.ai" in page.headers["content-security-policy"]
    assert "Tracker" in page.text
    assert "sends you back to <strong>claude.ai</strong>" in page.text
    assert "<code>search</code>" in page.text
    assert "delete_issue" not in page.text  # blocked by the organization
    assert "1 more blocked or held for review by the organization" in page.text


def test_a_client_id_metadata_document_identifies_the_client_without_registration(
    endpoint, member, browser, cimd_client
):
    resource, server = discover(endpoint.url)
    client_id = cimd_client("claude-ai", [CLAUDE_CALLBACK])

    code, verifier = authorize(browser, member, server, client_id, resource["resource"])
    answer = exchange(server, client_id, code, verifier, resource=endpoint.url)

    assert answer.status_code == 200, answer.text
    assert member_for_access_token(token=answer.json()["access_token"], resource=endpoint.url)


def test_a_refresh_keeps_the_audience_and_rotates_the_refresh_token(endpoint, member, browser):
    resource, server = discover(endpoint.url)
    client_id = register(server)
    code, verifier = authorize(browser, member, server, client_id, resource["resource"])
    first = exchange(server, client_id, code, verifier).json()

    refreshed = httpx.post(
        server["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": first["refresh_token"],
        },
    )

    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert member_for_access_token(token=second["access_token"], resource=endpoint.url) == member


def test_a_member_of_another_organization_is_refused_at_the_consent_page(
    endpoint, other_member, browser
):
    resource, server = discover(endpoint.url)
    client_id = register(server)
    _verifier, challenge = pkce_pair()

    page = browser(other_member).open(
        authorize_url(
            server,
            response_type="code",
            client_id=client_id,
            redirect_uri=CLAUDE_CALLBACK,
            state="s",
            code_challenge=challenge,
            code_challenge_method="S256",
            resource=endpoint.url,
        )
    )

    assert page.status_code == 403
    assert "are not a member of the organization" in page.text


def test_a_token_is_refused_for_another_organizations_endpoint(
    endpoint, member, other_member, browser, upstream
):
    resource, server = discover(endpoint.url)
    client_id = register(server)
    code, verifier = authorize(browser, member, server, client_id, resource["resource"])
    token = exchange(server, client_id, code, verifier).json()["access_token"]
    # The member joins the other organization too: the token still reaches only its endpoint.
    MembershipFactory(user=member.user, organization=other_member.organization)
    elsewhere = endpoint_for(other_member, upstream.url)

    assert member_for_access_token(token=token, resource=elsewhere.url) is None
