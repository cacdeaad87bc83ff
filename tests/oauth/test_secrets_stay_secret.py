"""Known secrets, planted through the real journeys, show up nowhere they should not: not in the
database (outside their ciphertext), the logs, the Celery messages, the pages or the error pages.

The secrets: an owner's OAuth client secret, a member's access and refresh tokens (obtained
through the real flow against the MCP SDK's auth routes on loopback, then refreshed), an API
token, an invitation token and two passwords. The journeys: registering the connector,
connecting it, the refresh, the Messages API configuration, the reveal, a health check, an
invitation, exports, the error pages, the disconnection (whose revocation sends the tokens back).

The member's access token is in two answers on purpose, the configuration and the reveal; the
API token in the one answer that creates it; the invitation token on the invitee's own page,
whose address holds it. Everywhere else: zero hits.
"""

import json
import logging
import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from celery.signals import task_prerun
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import path, reverse

from orgconnectors import urls as project_urls
from orgconnectors.celery import app as celery_app
from orgconnectors.connectors.models import Connector
from orgconnectors.messages_api import builder
from orgconnectors.messages_api.selectors import member_connectors
from orgconnectors.messages_api.services import _fresh_token
from orgconnectors.oauth import tasks
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.vault import access_token_of, refresh_token_of
from orgconnectors.organizations.models import Membership
from tests.factories import PASSWORD
from tests.oauth.authorization_server import PREREGISTERED_ID, PREREGISTERED_SECRET
from tests.oauth.conftest import consent, handoff_url

INVITEE_PASSWORD = "invitee-chose-this-pw-4417"
# Loggers of the test's own peers (the authorization server under uvicorn), not of orgconnectors.
PEER_LOGGERS = ("uvicorn", "mcp.server", "tests.")


def _error_view(request):
    """An error in a view that holds a member's token objects, the way code that formats them
    into an exception message or a log line would: a repr that shows the token leaks here."""
    membership = Membership.objects.get(user=request.user, organization__slug="acme")
    held = member_connectors(membership=membership).held
    token = _fresh_token(held[0])
    server = builder.Server(
        name="tracker", url="https://tracker.example/mcp", policy=held[0].facts.policy,
        token=token.value,
    )  # fmt: skip
    raise RuntimeError(f"could not hand out {server!r} with {token!r} from {held!r}")


urlpatterns = [path("test-error/", _error_view), *project_urls.urlpatterns]


class RecordingClient(Client):
    """A test client that keeps every answer's body (streamed ones too) as the page it was."""

    def __init__(self, pages: dict, who: str, **kwargs):
        super().__init__(**kwargs)
        self.pages, self.who = pages, who

    def request(self, **request):
        response = super().request(**request)
        if response.streaming:
            body = b"".join(response.streaming_content)
            response.streaming_content = [body]
        else:
            body = response.content
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        label = f"{self.who} {request['REQUEST_METHOD']} {request['PATH_INFO']}"
        label += f" #{len(self.pages)}"
        self.pages[label] = headers + "\n\n" + body.decode(errors="replace")
        return response


@pytest.fixture
def all_logs(caplog):
    """Every logger at DEBUG, so whatever any of them would write is searched."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def task_messages():
    """The Celery message of every task run, as the broker would carry it (headers and body,
    argsrepr included): tasks run eagerly here, so they are built from what each task got."""
    messages = []

    def record(sender=None, task_id=None, task=None, args=None, kwargs=None, **_):
        message = celery_app.amqp.as_task_v2(task_id, task.name, args=args, kwargs=kwargs)
        messages.append(json.dumps([message.headers, message.body], default=str))

    task_prerun.connect(record, weak=False)
    yield messages
    task_prerun.disconnect(record)


def database_text() -> str:
    """Every row of every table, bytes and JSON included, plus the decoded sessions."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalogue
            rows += [f"{table}: {row!r}" for row in cursor.fetchall()]
    for session in Session.objects.all():
        rows.append(f"session: {session.get_decoded()!r}")
    return "\n".join(rows)


def log_text(caplog) -> str:
    ours = [r for r in caplog.records if not r.name.startswith(PEER_LOGGERS)]
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(r) + repr(r.__dict__) for r in ours)


def places(secret: str, sources: dict[str, str]) -> list[str]:
    return sorted(where for where, text in sources.items() if secret in text)


def test_no_secret_leaks_outside_its_ciphertext_and_its_own_answers(
    org, owner, member, auditor, auth_server, provider, settings, all_logs, task_messages,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    pages: dict[str, str] = {}

    def client(who: str, membership=None, **kwargs) -> RecordingClient:
        browser = RecordingClient(pages, who, **kwargs)
        if membership is not None:
            browser.force_login(membership.user)
        return browser

    def step(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    owner_browser, auditor_browser = client("owner", owner), client("auditor", auditor)
    member_browser = client("member")
    acme = ["acme"]

    # The member signs in with their password (their address verified, as after sign-up).
    EmailAddress.objects.update_or_create(
        user=member.user, email=member.user.email, defaults={"verified": True, "primary": True}
    )
    answer = step(
        member_browser.post,
        reverse("account_login"),
        {"login": member.user.email, "password": PASSWORD},
    )
    assert answer.status_code == 302, answer.content.decode()

    # The owner registers the connector with the client secret they got from its server.
    answer = step(owner_browser.post, reverse("connector_add", args=acme), {
        "name": "Tracker", "url": auth_server.mcp_url, "transport": "streamable_http",
        "auth": "oauth", "oauth_client_id": PREREGISTERED_ID,
        "oauth_client_secret": PREREGISTERED_SECRET, "tool_default": "allow",
    })  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()
    connector = Connector.objects.get(organization=org, name="Tracker")
    ids = ["acme", connector.pk]

    # The member connects it through the authorization server.
    answer = step(member_browser.post, reverse("connection_enable", args=ids))
    answer = step(member_browser.get, consent(handoff_url(answer)))
    assert answer.status_code == 302, answer.content.decode()
    credential = OAuthCredential.objects.get(connection__connector=connector)
    first_access, first_refresh = access_token_of(credential), refresh_token_of(credential)

    # The tokens are refreshed when due.
    with time_machine.travel(credential.next_refresh_at + timedelta(seconds=1), tick=False):
        step(tasks.refresh_sweep)
    credential.refresh_from_db()
    access, refresh = access_token_of(credential), refresh_token_of(credential)
    assert (access, refresh) != (first_access, first_refresh)

    # A health check of every connector, and its run's page.
    answer = step(owner_browser.post, reverse("health_check_all", args=acme), follow=True)
    assert answer.status_code == 200

    # The Messages API reaches only public https servers, and the test's server is on loopback:
    # the connector's address becomes an https one (its tokens and client stay as they are).
    Connector.objects.filter(pk=connector.pk).update(url="https://tracker.example.com/mcp")

    # An API token, shown once; the member's app reads the configuration with it.
    answer = step(member_browser.post, reverse("api_token_list", args=acme), {
        "name": "App", "scopes": ["read", "connections"],
    })  # fmt: skip
    api_token = re.search(r"oc_[A-Za-z0-9_-]{20,}", answer.content.decode()).group()
    app = client("app", HTTP_AUTHORIZATION=f"Bearer {api_token}")
    config = step(app.get, "/api/v1/orgs/acme/messages-api-config")
    assert config.status_code == 200, config.content.decode()
    assert access in config.content.decode()

    # The member looks at the configuration page and reveals the token there.
    step(member_browser.get, reverse("messages_api_config", args=acme))
    revealed = step(member_browser.post, reverse("messages_api_config", args=acme))
    assert access in revealed.content.decode()

    # An invitation: its link goes to the invitee's mailbox; the invitee joins with a password.
    step(owner_browser.post, reverse("member_invite", args=acme), {
        "email": "newcomer@acme.test", "role": "member",
    })  # fmt: skip
    (invitation_mail,) = [m for m in mail.outbox if "newcomer@acme.test" in m.to]
    invitation_token = re.search(r"/invitations/([^/\s]+)/", invitation_mail.body).group(1)
    invitee = client("invitee")
    accept = reverse("invitation_accept", args=[invitation_token])
    step(invitee.get, accept)
    answer = step(invitee.post, accept, {
        "password1": INVITEE_PASSWORD, "password2": INVITEE_PASSWORD,
    })  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()

    # Error pages: a 500 of a view holding token objects (DEBUG off), a 404 and a 403.
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    crashing = client("member", member, raise_request_exception=False)
    assert step(crashing.get, "/test-error/").status_code == 500
    assert step(member_browser.get, reverse("connector_detail", args=["acme", 0])).status_code in (
        403,
        404,
    )
    assert step(member_browser.get, reverse("audit_list", args=acme)).status_code == 403
    assert step(member_browser.get, "/no-such-page/").status_code == 404
    settings.ROOT_URLCONF = project_urls.__name__

    # The member disconnects: the tokens go back to the server to be revoked.
    step(member_browser.post, reverse("connection_disable", args=ids))
    assert provider.revoked

    # The auditor reads the trail, every event's page, the usage and the exports.
    for name in ("audit_list", "usage", "usage_events", "audit_digests"):
        step(auditor_browser.get, reverse(name, args=acme))
    for event_id in org.audit_events.values_list("id", flat=True):
        step(auditor_browser.get, reverse("audit_detail", args=["acme", event_id]))
    for name in ("audit_export", "usage_export"):
        for fmt in ("csv", "jsonl"):
            answer = step(auditor_browser.get, reverse(name, args=acme), {"format": fmt})
            assert answer.status_code == 200
    for name in ("connector_list", "member_list", "api_token_list", "my_connectors"):
        step(owner_browser.get, reverse(name, args=acme))
    step(owner_browser.get, reverse("connector_detail", args=ids))

    sources = {
        "database": database_text(),
        "logs": log_text(all_logs),
        "task messages": "\n".join(task_messages),
        "emails": "\n".join(m.subject + m.body for m in mail.outbox if m is not invitation_mail),
        **{f"page {label}": text for label, text in pages.items()},
    }
    secrets = {
        "client secret": PREREGISTERED_SECRET,
        "first access token": first_access,
        "first refresh token": first_refresh,
        "access token": access,
        "refresh token": refresh,
        "API token": api_token,
        "invitation token": invitation_token,
        "member's password": PASSWORD,
        "invitee's password": INVITEE_PASSWORD,
    }
    found = {name: places(value, sources) for name, value in secrets.items()}

    config_page = next(label for label in pages if "GET /api/v1/orgs/acme/messages-api-c" in label)
    reveal_page = next(label for label in pages if "POST /orgs/acme/use-with-the-api/" in label)
    token_page = next(label for label in pages if "POST /orgs/acme/api-tokens/" in label)
    accept_pages = sorted(label for label in pages if "/invitations/" in label)
    assert len(task_messages) >= 3  # the refresh, the health check and the revocation ran
    # The invitee's own page may hold its token (in its address or its form), and nothing else.
    assert set(found.pop("invitation token")) <= {f"page {label}" for label in accept_pages}
    assert found == {
        "client secret": [],
        "first access token": [],
        "first refresh token": [],
        "access token": sorted([f"page {config_page}", f"page {reveal_page}"]),
        "refresh token": [],
        "API token": [f"page {token_page}"],
        "member's password": [],
        "invitee's password": [],
    }
