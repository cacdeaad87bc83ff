"""Connect on an OAuth connector, in the dashboard: one click connects (within the plan's
limit) and sends the browser straight to the authorization server."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.oauth.models import PendingAuthorization
from tests.factories import ConnectionFactory, ConnectorFactory
from tests.oauth.conftest import browser_for, consent, handoff_url, query_of

pytestmark = pytest.mark.django_db

MINE = "/orgs/acme/my-connectors/"


def _connect_path(connector) -> str:
    return reverse("connection_enable", args=["acme", connector.pk])


def test_connect_goes_straight_to_the_server_and_comes_back_connected(
    member, oauth_connector, provider, auth_server, django_capture_on_commit_callbacks
):
    browser = browser_for(member)

    response = browser.post(_connect_path(oauth_connector))

    authorize_url = handoff_url(response)
    assert authorize_url.startswith(f"{auth_server.base_url}/authorize?")
    assert query_of(authorize_url)["code_challenge_method"] == "S256"
    connection = Connection.objects.get(membership=member, connector=oauth_connector)
    assert connection.state == Connection.State.NEEDS_AUTHORIZATION
    with django_capture_on_commit_callbacks(execute=True):
        landing = browser.get(consent(authorize_url), follow=True)
    assert landing.redirect_chain == [(MINE, 302)]
    assert "Tracker is connected." in landing.content.decode()
    connection.refresh_from_db()
    assert connection.state == Connection.State.ENABLED


def test_connect_from_htmx_has_the_browser_itself_go_to_the_server(
    member, oauth_connector, provider, auth_server
):
    response = browser_for(member).post(
        _connect_path(oauth_connector), headers={"HX-Request": "true"}
    )

    # Followed by XMLHttpRequest, a redirect would load the server's page into this one.
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(f"{auth_server.base_url}/authorize?")


def test_the_connect_button_of_an_oauth_connector_posts_with_htmx_and_without_it(
    member, org, oauth_connector, provider
):
    plain = ConnectorFactory(organization=org, name="Wiki")

    page = browser_for(member).get(MINE).content.decode()

    for connector in (plain, oauth_connector):
        assert f'action="{_connect_path(connector)}" hx-post="{_connect_path(connector)}"' in page


def test_a_discovery_failure_connects_and_says_why_on_my_connectors(member, org, unused_port_url):
    broken = ConnectorFactory(
        organization=org, name="Gone", url=unused_port_url, auth=Connector.Auth.OAUTH
    )

    response = browser_for(member).post(_connect_path(broken), follow=True)

    assert response.redirect_chain == [(MINE, 302)]
    page = response.content.decode()
    assert "Gone: The server at" in page
    assert "did not answer" in page
    assert f'id="authorize-{broken.pk}"' in page  # to try again once the server is back
    connection = Connection.objects.get(membership=member, connector=broken)
    assert connection.state == Connection.State.NEEDS_AUTHORIZATION
    assert "did not answer" in connection.state_reason


def test_the_plan_limit_still_holds_and_nothing_is_sent_to_the_server(
    member, org, plan, oauth_connector, provider
):
    org.plan = plan("free")
    org.save(update_fields=["plan"])
    ConnectionFactory(membership=member, connector=ConnectorFactory(organization=org, name="Wiki"))

    response = browser_for(member).post(_connect_path(oauth_connector))

    assert response.status_code == 409
    assert escape("Disconnect one before connecting Tracker.") in response.content.decode()
    assert not Connection.objects.filter(connector=oauth_connector).exists()
    assert not PendingAuthorization.objects.exists()
    assert provider.registrations == 0
