"""PUT/GET/DELETE /api/v1/orgs/{org}/sso: owners configure OpenID Connect against a real provider
on loopback; every way the issuer can be wrong is a 400 with its reason; the secret is never
shown or audited."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.identity.models import SingleSignOn
from tests.api.conftest import token_client
from tests.identity.sso.conftest import CLIENT
from tests.servers import free_port

pytestmark = pytest.mark.django_db
SSO = "/api/v1/orgs/acme/sso"


@pytest.fixture
def api(owner, actor):
    return token_client(owner, actor=actor)


def _oidc(issuer, **more):
    return {
        "protocol": "oidc",
        "issuer": issuer,
        "client_id": CLIENT.client_id,
        "client_secret": CLIENT.client_secret,
        **more,
    }


class WrongIssuer(BaseHTTPRequestHandler):
    """A discovery document that names another issuer, or lacks the token endpoint."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path.startswith("/other/"):
            document = {"issuer": "https://evil.example", "authorization_endpoint": base}
        else:
            document = {"issuer": f"{base}/partial", "authorization_endpoint": f"{base}/a"}
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def wrong_provider():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), WrongIssuer)
    thread = Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(5)


def test_an_owner_configures_openid_connect_and_reads_it_back_without_the_secret(
    api, org, oidc_peer
):
    answer = api.put(SSO, _oidc(oidc_peer.issuer + "/"))
    assert answer.status_code == 200, answer.content
    shown = answer.json()
    assert shown["configured"] is True
    assert shown["issuer"] == oidc_peer.issuer
    assert shown["has_client_secret"] is True
    assert shown["oidc_redirect_uri"].endswith("/accounts/oidc/org-acme/login/callback/")
    assert shown["saml_acs_url"].endswith("/accounts/saml/acme/acs/")
    assert CLIENT.client_secret not in answer.content.decode()
    read = api.get(SSO)
    assert read.json() == shown
    assert CLIENT.client_secret not in read.content.decode()
    sso = SingleSignOn.objects.get(organization=org)
    assert CLIENT.client_secret not in sso.client_secret_encrypted
    event = AuditEvent.objects.get(organization=org, action="sso.configured")
    assert CLIENT.client_secret not in json.dumps(event.changes)
    assert event.changes["has_client_secret"] == {"before": None, "after": True}


def test_the_secret_is_kept_when_an_update_omits_it(api, org, oidc_peer):
    assert api.put(SSO, _oidc(oidc_peer.issuer)).status_code == 200
    before = SingleSignOn.objects.get(organization=org).client_secret_encrypted
    update = {"protocol": "oidc", "issuer": oidc_peer.issuer, "client_id": CLIENT.client_id}
    answer = api.put(SSO, {**update, "default_role": "auditor"})
    assert answer.status_code == 200, answer.content
    sso = SingleSignOn.objects.get(organization=org)
    assert sso.client_secret_encrypted == before
    assert sso.default_role == "auditor"


def test_an_issuer_whose_document_names_another_issuer_is_refused(api, wrong_provider):
    answer = api.put(SSO, _oidc(f"{wrong_provider}/other"))
    assert answer.status_code == 400
    assert "names the issuer 'https://evil.example'" in answer.json()["detail"]
    assert not SingleSignOn.objects.exists()


def test_a_document_without_the_token_endpoint_is_refused(api, wrong_provider):
    answer = api.put(SSO, _oidc(f"{wrong_provider}/partial"))
    assert answer.status_code == 400
    assert "has no token_endpoint, jwks_uri" in answer.json()["detail"]


def test_an_unreachable_issuer_is_refused(api):
    answer = api.put(SSO, _oidc(f"http://127.0.0.1:{free_port()}"))
    assert answer.status_code == 400
    assert "could not be read" in answer.json()["detail"]


def test_an_issuer_at_a_private_address_is_refused(api):
    answer = api.put(SSO, _oidc("https://10.1.2.3"))
    assert answer.status_code == 400
    assert "The issuer URL cannot be used" in answer.json()["detail"]
    assert "private" in answer.json()["detail"]


def test_a_plain_http_issuer_is_refused_when_loopback_is_not_allowed(api, settings):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False
    answer = api.put(SSO, _oidc("http://idp.example.com"))
    assert answer.status_code == 400
    assert "https://" in answer.json()["detail"]


def test_owner_is_not_a_default_role_and_the_answer_says_why(api, oidc_peer):
    answer = api.put(SSO, _oidc(oidc_peer.issuer, default_role="owner"))
    assert answer.status_code == 400
    assert "cannot be owners" in answer.json()["detail"]


def test_a_first_configuration_needs_the_secret(api, oidc_peer):
    answer = api.put(SSO, {"protocol": "oidc", "issuer": oidc_peer.issuer, "client_id": "x"})
    assert answer.status_code == 400
    assert answer.json()["detail"] == "Give the client secret."


def test_an_unknown_protocol_is_refused(api):
    answer = api.put(SSO, {"protocol": "kerberos"})
    assert answer.status_code == 400
    assert "choose oidc or saml" in answer.json()["detail"]


def test_removing_it_is_audited_without_the_secret(api, org, oidc_peer):
    assert api.put(SSO, _oidc(oidc_peer.issuer)).status_code == 200
    assert api.delete(SSO).status_code == 204
    assert not SingleSignOn.objects.filter(organization=org).exists()
    assert api.get(SSO).json()["configured"] is False
    event = AuditEvent.objects.get(organization=org, action="sso.removed")
    assert CLIENT.client_secret not in json.dumps(event.changes)
