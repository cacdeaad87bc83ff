"""Connectors' names and URLs: whatever is sent, a 400 with a sentence or a form error, never a
server error, and nothing stored changes; a name never breaks an email header."""

import pytest

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.health.notify import health_owners_notify
from orgconnectors.oauth.notify import reauthorization_notify
from tests.factories import ConnectionFactory, ConnectorFactory

BROKEN_URLS = [
    "https://a:x/",
    "https://a:99999/",
    "https://a:-1/",
    "https://[::1/",
    "https://[zz]/mcp",
    "https://user:pass@[::1]:x/",
    "http://a:x",
]
CONTROL_NAMES = [
    "Wiki\nBcc: everyone@example.com",
    "Wiki\r\nSubject: hi",
    "Wi\x0bki",
    "Wiki\x1b[31m",
    "Wiki\u2028two",
    "Wi\x85ki",
    "Wiki\tdocs",
]


def _stored(connector: Connector) -> tuple:
    connector.refresh_from_db()
    return (connector.name, connector.url, AuditEvent.objects.count())


@pytest.fixture
def wiki(org):
    return ConnectorFactory(organization=org, name="Wiki", url="https://wiki.example.com/mcp")


@pytest.mark.parametrize("url", BROKEN_URLS)
def test_patching_a_connector_with_a_url_that_is_not_one_is_a_400_with_a_sentence(
    owner_api, wiki, url
):
    before = _stored(wiki)
    response = owner_api.patch(f"/api/v1/orgs/acme/connectors/{wiki.pk}", {"url": url})
    assert response.status_code == 400
    assert response.json()["errors"]["url"][0].endswith(".")
    assert _stored(wiki) == before


@pytest.mark.parametrize("url", BROKEN_URLS)
def test_registering_a_connector_with_a_url_that_is_not_one_is_a_400_with_a_sentence(
    owner_api, url
):
    before = AuditEvent.objects.count()
    response = owner_api.post("/api/v1/orgs/acme/connectors", {"name": "Wiki", "url": url})
    assert response.status_code == 400
    assert response.json()["errors"]["url"]
    assert not Connector.objects.exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_a_connector_name_with_control_characters_is_refused_on_patch(owner_api, wiki, name):
    before = _stored(wiki)
    response = owner_api.patch(f"/api/v1/orgs/acme/connectors/{wiki.pk}", {"name": name})
    assert response.status_code == 400
    assert "control characters" in response.json()["errors"]["name"][0]
    assert _stored(wiki) == before


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_a_connector_name_with_control_characters_is_refused_at_registration(owner_api, name):
    response = owner_api.post(
        "/api/v1/orgs/acme/connectors", {"name": name, "url": "https://wiki.example.com/mcp"}
    )
    assert response.status_code == 400
    assert "control characters" in response.json()["errors"]["name"][0]
    assert not Connector.objects.exists()


def test_the_edit_page_shows_the_control_character_refusal_next_to_the_name(owner_browser, wiki):
    before = _stored(wiki)
    response = owner_browser.post(
        f"/orgs/acme/connectors/{wiki.pk}/edit/",
        {"name": "Wiki\nBcc: everyone@example.com", "transport": "auto", "auth": "none"},
    )
    assert response.status_code in (200, 400)
    assert "control characters" in response.content.decode()
    assert _stored(wiki) == before


def test_a_name_stored_with_a_line_break_still_makes_a_one_line_health_email_subject(
    owner, org, mailoutbox
):
    # As stored before names were checked.
    connector = ConnectorFactory(organization=org, name="Wiki\nBcc: everyone@example.com")
    assert health_owners_notify(connector_id=connector.pk, before="up", after="down") == 1
    (message,) = mailoutbox
    assert message.subject == "Wiki Bcc: everyone@example.com is down"
    assert "\n" not in message.message()["Subject"]


def test_a_name_stored_with_a_line_break_still_makes_a_one_line_reauthorization_subject(
    member, org, mailoutbox
):
    connection = ConnectionFactory(
        membership=member,
        connector__organization=org,
        connector__name="Wiki\r\nBcc: everyone@example.com",
        state=Connection.State.NEEDS_AUTHORIZATION,
    )
    assert reauthorization_notify(connection_id=connection.pk) == 1
    assert mailoutbox[0].subject == "Authorize Wiki Bcc: everyone@example.com again"
