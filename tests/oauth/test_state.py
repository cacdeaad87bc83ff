"""The callback accepts an authorization answer once, within 10 minutes, for the member and the
browser session that started it; anything else gets a page that says what to do."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from orgconnectors.connectors.connections import connection_enable
from orgconnectors.connectors.models import Connection
from orgconnectors.oauth.models import OAuthCredential
from orgconnectors.oauth.services import oauth_authorization_start
from tests.oauth.conftest import browser_for, consent, query_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(member, oauth_connector, actor):
    """A member's browser, and the path the authorization server sends it back to."""
    connection_enable(membership=member, connector=oauth_connector, actor=actor(member))
    browser = browser_for(member)
    url = oauth_authorization_start(
        membership=member,
        connector=oauth_connector,
        session_key=browser.session.session_key,
        actor=actor(member),
    )
    return browser, consent(url)


def _page(response) -> str:
    return response.content.decode()


def test_a_state_orgconnectors_never_issued_is_refused(member, provider):
    response = browser_for(member).get("/oauth/callback?code=abc&state=made-up")

    assert response.status_code == 400
    assert "does not match any request orgconnectors made" in _page(response)
    assert "choose Authorize to start again" in _page(response)


def test_a_missing_state_is_refused(member, provider):
    response = browser_for(member).get("/oauth/callback?code=abc")

    assert response.status_code == 400
    assert "without the request&#x27;s state" in _page(response)


def test_a_replayed_answer_is_refused_and_changes_nothing(started, provider):
    browser, back = started
    assert browser.get(back).status_code == 302
    credential = OAuthCredential.objects.get()

    replay = browser.get(back)

    assert replay.status_code == 400
    assert "already used" in _page(replay)
    assert OAuthCredential.objects.get().generation == credential.generation
    assert len([f for f in provider.token_log.forms if f.get("code")]) == 1


def test_an_answer_after_ten_minutes_is_refused(started, provider):
    browser, back = started

    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)):
        response = browser.get(back)

    assert response.status_code == 400
    assert "has expired" in _page(response)
    assert provider.token_log.forms == []
    assert Connection.objects.get().state == Connection.State.NEEDS_AUTHORIZATION


def test_another_signed_in_user_cannot_complete_a_members_authorization(started, owner, provider):
    _browser, back = started

    response = browser_for(owner).get(back)

    assert response.status_code == 400
    assert "started by someone else" in _page(response)
    assert provider.token_log.forms == []
    assert not OAuthCredential.objects.exists()


def test_the_same_member_in_another_browser_cannot_complete_it(started, member, provider):
    _browser, back = started

    response = browser_for(member).get(back)

    assert response.status_code == 400
    assert "in another browser" in _page(response)


def test_an_anonymous_visitor_is_sent_to_sign_in_first(started, client):
    _browser, back = started

    response = client.get(back)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_declined_authorization_says_so_and_leaves_the_connection_waiting(started, provider):
    browser, back = started
    path, query = back.split("?")
    state = query_of(back)["state"]

    response = browser.get(f"{path}?error=access_denied&state={state}")

    assert response.status_code == 400
    assert "declined" in _page(response)
    assert Connection.objects.get().state == Connection.State.NEEDS_AUTHORIZATION


def test_an_answer_for_a_connection_disconnected_meanwhile_is_refused(
    started, member, oauth_connector, actor, provider
):
    from orgconnectors.connectors.connections import connection_disable

    browser, back = started
    connection_disable(membership=member, connector=oauth_connector, actor=actor(member))

    response = browser.get(back)

    assert response.status_code == 400
    assert "disconnected while you were authorizing" in _page(response)
    assert Connection.objects.get().state == Connection.State.DISABLED
