"""The requests Session for libraries written for `requests` (allauth's providers), against a
real server on 127.0.0.1: it answers like requests would, and the guard still decides."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
import requests

from orgconnectors.egress.guard import EgressPolicy
from orgconnectors.egress.requests_session import build_requests_session

LOOPBACK = EgressPolicy(allow_loopback=True)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/moved":
            self._answer(302, b"", Location="/config")
        elif self.path == "/private":
            self._answer(302, b"", Location="http://10.0.0.1/")
        elif self.path == "/big":
            self._answer(200, b"x" * 5000)
        else:
            body = json.dumps({"path": self.path, "auth": self.headers.get("Authorization")})
            self._answer(200, body.encode(), Content_Type="application/json; charset=utf-8")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode()
        self._answer(201, json.dumps({"form": form}).encode(), Content_Type="application/json")


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(5)


def test_a_get_answers_like_requests_with_headers_status_and_json(server):
    with build_requests_session(policy=LOOPBACK) as session:
        response = session.get(f"{server}/config", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"path": "/config", "auth": "Bearer t"}
    response.raise_for_status()


def test_a_form_post_reaches_the_server_with_its_body(server):
    with build_requests_session(policy=LOOPBACK) as session:
        response = session.post(f"{server}/token", data={"code": "abc", "grant_type": "x"})
    assert response.status_code == 201
    assert response.json() == {"form": "code=abc&grant_type=x"}


def test_redirects_are_followed_hop_by_hop_through_the_guard(server):
    with build_requests_session(policy=LOOPBACK) as session:
        assert session.get(f"{server}/moved").json()["path"] == "/config"
        with pytest.raises(requests.ConnectionError, match="Refused to reach http://10.0.0.1/"):
            session.get(f"{server}/private")


def test_a_loopback_server_is_refused_when_loopback_is_not_allowed(server):
    with build_requests_session(policy=EgressPolicy()) as session:
        with pytest.raises(requests.ConnectionError, match="Refused to reach") as refused:
            session.get(f"{server}/config")
    assert "127.0.0.1" in str(refused.value)


def test_a_private_address_is_refused_with_the_reason(server):
    with build_requests_session(policy=LOOPBACK) as session:
        with pytest.raises(requests.RequestException, match="Refused to reach http://10.1.2.3/"):
            session.get("http://10.1.2.3/.well-known/openid-configuration")


def test_an_answer_over_the_cap_is_refused(server, settings):
    settings.ORGCONNECTORS_EGRESS_MAX_RESPONSE_BYTES = 1000
    with build_requests_session(policy=LOOPBACK) as session:
        with pytest.raises(requests.RequestException, match="too large"):
            session.get(f"{server}/big")
