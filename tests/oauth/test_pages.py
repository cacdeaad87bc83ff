"""Who may use the OAuth pages, and how they answer other methods."""

import pytest

from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.models import Connector
from tests.factories import ConnectorFactory
from tests.oauth.conftest import browser_for

pytestmark = pytest.mark.django_db


def _authorize_path(connector, org: str = "acme") -> str:
    return f"/orgs/{org}/my-connectors/{connector.pk}/authorize/"


def test_an_auditor_cannot_authorize_a_connector(auditor, oauth_connector):
    response = browser_for(auditor).post(_authorize_path(oauth_connector))

    assert response.status_code == 403


def test_a_member_of_another_organization_gets_not_found(other_member, oauth_connector):
    as_outsider = browser_for(other_member)

    assert as_outsider.post(_authorize_path(oauth_connector)).status_code == 404
    assert as_outsider.post(_authorize_path(oauth_connector, "globex")).status_code == 404


def test_authorize_takes_only_post_and_the_callback_only_get(member, oauth_connector):
    browser = browser_for(member)

    assert browser.get(_authorize_path(oauth_connector)).status_code == 405
    assert browser.post("/oauth/callback").status_code == 405


def test_authorizing_before_connecting_says_to_connect_first(member, oauth_connector):
    response = browser_for(member).post(_authorize_path(oauth_connector), follow=True)

    assert "Connect Tracker first, then authorize it." in response.content.decode()
    assert not member.connections.exists()


def test_a_discovery_failure_is_shown_on_my_connectors(member, org, actor, unused_port_url):
    broken = ConnectorFactory(
        organization=org, name="Gone", url=unused_port_url, auth=Connector.Auth.OAUTH
    )
    connection_enable(membership=member, connector=broken, actor=actor(member))

    response = browser_for(member).post(_authorize_path(broken), follow=True)

    page = response.content.decode()
    assert "Gone: The server at" in page
    assert "did not answer" in page
