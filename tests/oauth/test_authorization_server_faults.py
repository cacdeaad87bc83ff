"""Authorization servers that hang, answer 500 or garbage, or whose clock is off: a refresh
ends as a transient failure with a backoff (never a crash, never a lapsed connection), the
credential says what happened, and a skewed clock changes nothing since expiry is counted from
orgconnectors' own receipt of the answer."""

import asyncio
from datetime import timedelta
from email.utils import format_datetime

import pytest
import time_machine
from django.utils import timezone
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.models import Connection
from orgconnectors.oauth import tasks
from orgconnectors.oauth.models import OAuthClient, OAuthCredential
from orgconnectors.oauth.vault import access_token_of
from tests.loopback import serve_asgi

pytestmark = [pytest.mark.django_db, pytest.mark.faults]

SKEW = timedelta(minutes=5)
LIFETIME = 600  # seconds: due 5 minutes before expiry


async def _hang(request):
    await asyncio.Event().wait()  # never answers


async def _error_500(request):
    return Response("Internal Server Error", status_code=500, media_type="text/plain")


async def _html(request):
    return Response("<html><body>Sign in</body></html>", media_type="text/html")


async def _no_access_token(request):
    return JSONResponse({"token_type": "Bearer", "expires_in": 3600})


async def _not_an_object(request):
    return JSONResponse(["access_token", "nope"])


async def _truncated(request):
    return Response('{"access_token": "abc", "token_ty', media_type="application/json")


class SkewedTokenEndpoint:
    """Grants every refresh, with a Date header `skew` away from the real time."""

    def __init__(self, skew: timedelta) -> None:
        self.skew = skew
        self.granted = 0

    async def token(self, request):
        await request.form()
        self.granted += 1
        server_time = timezone.now() + self.skew
        return JSONResponse(
            {
                "access_token": f"skewed-access-{self.granted}",
                "refresh_token": f"skewed-refresh-{self.granted}",
                "token_type": "Bearer",
                "expires_in": LIFETIME,
            },
            headers={"Date": format_datetime(server_time, usegmt=True)},
        )


@pytest.fixture(scope="module")
def faulty_server():
    routes = [
        Route("/hang", _hang, methods=["POST"]),
        Route("/500", _error_500, methods=["POST"]),
        Route("/html", _html, methods=["POST"]),
        Route("/no-access-token", _no_access_token, methods=["POST"]),
        Route("/not-an-object", _not_an_object, methods=["POST"]),
        Route("/truncated", _truncated, methods=["POST"]),
    ]
    served = serve_asgi(lambda base: Starlette(routes=routes), name="faulty token endpoint")
    yield served.url
    served.stop()


def _due(credential: OAuthCredential):
    return time_machine.travel(credential.next_refresh_at + timedelta(seconds=1), tick=True)


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/hang", "orgconnectors will try again"),
        ("/500", "answered 500"),
        ("/html", "not valid OAuth JSON"),
        ("/no-access-token", "not valid OAuth JSON"),
        ("/not-an-object", "not valid OAuth JSON"),
        ("/truncated", "not valid OAuth JSON"),
    ],
)
def test_a_broken_authorization_server_leaves_a_transient_failure_and_a_backoff(
    member, oauth_connector, provider, authorize, faulty_server, settings, path, said
):
    settings.ORGCONNECTORS_EGRESS_DEADLINE_SECONDS = 1.0  # the hanging one is given up on
    credential = authorize(member, oauth_connector).connection.oauth_credential
    old_access = access_token_of(credential)
    OAuthClient.objects.update(token_endpoint=faulty_server + path)

    with _due(credential):
        tasks.refresh_credential(credential_id=credential.pk, generation=credential.generation)
        tried_at = timezone.now()

    credential.refresh_from_db()
    assert credential.refresh_failures == 1
    assert said in credential.last_refresh_error
    assert credential.refresh_lease_until is None  # released for the next try
    assert tried_at + timedelta(seconds=10) <= credential.next_refresh_at
    assert credential.next_refresh_at <= tried_at + timedelta(seconds=60)
    assert access_token_of(credential) == old_access
    connection = Connection.objects.get(pk=credential.connection_id)
    assert (connection.state, connection.state_reason) == (Connection.State.ENABLED, "")
    failed = AuditEvent.objects.get(action="oauth.refresh_failed")
    assert failed.changes["permanent"]["after"] is False
    assert failed.changes["next_attempt_at"]["after"] == credential.next_refresh_at.isoformat()


@pytest.mark.parametrize("skew", [SKEW, -SKEW], ids=["server-clock-ahead", "server-clock-behind"])
def test_a_server_whose_clock_is_off_by_minutes_is_still_refreshed_before_expiry(
    member, oauth_connector, provider, authorize, skew
):
    credential = authorize(member, oauth_connector).connection.oauth_credential
    endpoint = SkewedTokenEndpoint(skew)
    served = serve_asgi(
        lambda base: Starlette(routes=[Route("/token", endpoint.token, methods=["POST"])]),
        name="skewed token endpoint",
        date_header=False,
    )
    try:
        OAuthClient.objects.update(token_endpoint=f"{served.url}/token")
        with _due(credential):
            tasks.refresh_sweep()
            received_at = timezone.now()
        credential.refresh_from_db()
        # Counted from orgconnectors' own clock, whatever the server's Date said.
        lifetime = (credential.expires_at - received_at).total_seconds()
        assert lifetime == pytest.approx(LIFETIME, abs=5)
        first_expiry = credential.expires_at
        assert credential.next_refresh_at <= first_expiry - timedelta(minutes=5)

        with _due(credential):
            tasks.refresh_sweep()
            refreshed_at = timezone.now()
        credential.refresh_from_db()
    finally:
        served.stop()

    assert endpoint.granted == 2
    assert refreshed_at < first_expiry - timedelta(minutes=4)
    assert access_token_of(credential) == "skewed-access-2"
    assert credential.refresh_failures == 0
