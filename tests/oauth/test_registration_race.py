"""Two members authorizing a connector for the first time at once register one client.

The MCP SDK's authorization server runs on loopback; its registration handler holds each
registration until a second one arrives (or briefly, when none does), so two registrations in
flight together are always seen. Threads stand for two web processes: `transaction=True`.
"""

import threading

import anyio
import pytest
from django.db import connection

from orgconnectors.connectors.models import Connection
from orgconnectors.oauth.models import OAuthClient

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="locks across connections"),
]


@pytest.fixture
def registrations_held_together(provider, monkeypatch):
    together = threading.Barrier(2, timeout=2)
    register = provider.register_client

    def wait_for_a_second_registration():
        try:
            together.wait()
        except threading.BrokenBarrierError:
            pass  # only one registration came: the single-flight held the other member back

    async def held(client_info):
        await anyio.to_thread.run_sync(wait_for_a_second_registration)
        await register(client_info)

    monkeypatch.setattr(provider, "register_client", held)


def test_two_members_authorizing_at_once_share_one_registered_client(
    owner, member, oauth_connector, provider, authorize, run_concurrently,
    registrations_held_together,
):  # fmt: skip
    first, second = run_concurrently(
        lambda: authorize(owner, oauth_connector), lambda: authorize(member, oauth_connector)
    )

    assert not isinstance(first, BaseException), first
    assert not isinstance(second, BaseException), second
    assert provider.registrations == 1
    client = OAuthClient.objects.get(connector=oauth_connector)
    assert client.client_id in provider.clients
    connections = Connection.objects.filter(connector=oauth_connector)
    assert {c.state for c in connections} == {Connection.State.ENABLED}
    assert {c.oauth_credential.client_id for c in connections} == {client.pk}
