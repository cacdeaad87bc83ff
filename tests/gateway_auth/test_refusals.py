"""Wrong PKCE, a wrong or missing resource, another tenant's endpoint, an auditor, a client
whose metadata document is on an address the egress guard refuses: each is a 4xx with a
sentence, never a 500."""

import httpx
import pytest

from tests.gateway_auth.conftest import CLAUDE_CALLBACK, authorize_url, endpoint_for, pkce_pair
from tests.gateway_auth.test_claude_like_flow import authorize, discover, exchange, register

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def flow(endpoint):
    resource, server = discover(endpoint.url)
    return server, register(server)


def _params(client_id: str, **overrides) -> dict:
    _verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLAUDE_CALLBACK,
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "openid",
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def test_a_wrong_code_verifier_is_refused(flow, endpoint, member, browser):
    server, client_id = flow
    code, _verifier = authorize(browser, member, server, client_id, endpoint.url)

    answer = exchange(server, client_id, code, "not-the-verifier-" + "x" * 40)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"code_challenge": None, "code_challenge_method": None}, "did not use PKCE"),
        ({"code_challenge_method": "plain"}, "requires S256"),
    ],
)
def test_an_authorization_without_pkce_s256_is_refused(
    flow, endpoint, member, browser, overrides, words
):
    server, client_id = flow

    page = browser(member).open(
        authorize_url(server, resource=endpoint.url, **_params(client_id, **overrides))
    )

    assert page.status_code == 400
    assert words in page.text


@pytest.mark.parametrize(
    "resource, status, words",
    [
        (None, 400, "did not say which gateway endpoint"),
        ("https://elsewhere.example/mcp", 400, "is not an endpoint of this gateway"),
    ],
)
def test_an_authorization_without_a_gateway_resource_is_refused(
    flow, member, browser, resource, status, words
):
    server, client_id = flow

    page = browser(member).open(authorize_url(server, resource=resource, **_params(client_id)))

    assert page.status_code == status
    assert words in page.text


def test_an_endpoint_without_a_connector_is_refused(flow, base_url, member, browser):
    server, client_id = flow

    page = browser(member).open(
        authorize_url(server, resource=f"{base_url}/mcp/acme/999999", **_params(client_id))
    )

    assert page.status_code == 404
    assert "has no connector at" in page.text


def test_an_auditor_cannot_allow_a_client(flow, endpoint, auditor, browser):
    server, client_id = flow

    page = browser(auditor).open(authorize_url(server, resource=endpoint.url, **_params(client_id)))

    assert page.status_code == 403
    assert "Auditors of Acme hold no connections" in page.text


def test_an_unregistered_redirect_uri_is_a_page_with_a_sentence_not_a_redirect(
    flow, endpoint, member, browser
):
    server, client_id = flow

    page = browser(member).open(
        authorize_url(
            server,
            resource=endpoint.url,
            **_params(client_id, redirect_uri="https://attacker.example/callback"),
        )
    )

    assert page.status_code == 400
    assert "refused" in page.text


def test_a_token_for_another_resource_than_the_one_granted_is_refused(
    flow, endpoint, member, browser, upstream
):
    server, client_id = flow
    other = endpoint_for(member, upstream.url, name="Wiki")
    code, verifier = authorize(browser, member, server, client_id, endpoint.url)

    answer = exchange(server, client_id, code, verifier, resource=other.url)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_target"


@pytest.mark.parametrize(
    "resource", ["https://elsewhere.example/mcp", "http://127.0.0.1:1/mcp//acme/1", "not a url"]
)
def test_a_foreign_or_malformed_resource_at_the_token_endpoint_is_invalid_target(
    flow, endpoint, member, browser, resource
):
    server, client_id = flow
    code, verifier = authorize(browser, member, server, client_id, endpoint.url)

    answer = exchange(server, client_id, code, verifier, resource=resource)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_target"
    assert answer.json()["error_description"]


def test_registration_with_a_plain_http_redirect_to_another_host_is_refused(endpoint):
    _resource, server = discover(endpoint.url)

    answer = httpx.post(
        server["registration_endpoint"],
        json={"client_name": "Sneaky", "redirect_uris": ["http://attacker.example/cb"]},
    )

    assert answer.status_code == 400
    assert "use https, or http on a loopback address" in answer.json()["error_description"]


def test_a_metadata_document_on_a_refused_address_is_fetched_through_egress_and_refused(
    flow, endpoint, member, browser, cimd_client, settings
):
    server, _client_id = flow
    client_id = cimd_client("loopback-client", [CLAUDE_CALLBACK])
    # The egress guard now refuses loopback: allauth's own fetch would not have cared.
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False

    page = browser(member).open(authorize_url(server, resource=endpoint.url, **_params(client_id)))

    assert page.status_code == 400
    assert "refused" in page.text


def test_the_protected_resource_metadata_of_an_unknown_endpoint_is_404(base_url):
    answer = httpx.get(f"{base_url}/.well-known/oauth-protected-resource/mcp/acme/424242")

    assert answer.status_code == 404
    assert "No gateway endpoint here" in answer.json()["error_description"]


def test_an_owner_without_two_factor_cannot_allow_where_the_organization_requires_it(
    flow, endpoint, owner, browser, org
):
    server, client_id = flow
    org.require_mfa_for_owners_and_auditors = True
    org.save(update_fields=["require_mfa_for_owners_and_auditors"])
    owner_endpoint = endpoint.url  # the owner is of the same organization

    page = browser(owner).open(authorize_url(server, resource=owner_endpoint, **_params(client_id)))

    assert page.status_code == 403
    assert "requires two-factor authentication" in page.text
