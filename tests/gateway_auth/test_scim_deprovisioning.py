"""A member the identity provider deactivates over SCIM, on the running application, is cut off
the gateway at once: the MCP client's next call is refused."""

import asyncio

import httpx2
import pytest

from orgconnectors.gateway.authorization.access_tokens import member_for_access_token
from tests.gateway_auth.test_sdk_client import (
    ConsentingPerson,
    MemoryStorage,
    list_and_call,
    provider,
)
from tests.scim.helpers import deactivate_over_http

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_member_deactivated_over_scim_is_cut_off_the_gateway(endpoint, member, browser, base_url):
    person = ConsentingPerson(browser(member))
    storage = MemoryStorage()
    names, _result = asyncio.run(
        list_and_call(endpoint.url, provider(endpoint.url, person, storage))
    )
    assert names == ["search"]
    token = storage.tokens.access_token

    deactivate_over_http(base_url, member)

    assert member_for_access_token(token=token, resource=endpoint.url) is None
    refused = httpx2.post(
        endpoint.url,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 401
