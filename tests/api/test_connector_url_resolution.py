"""The API resolves a connector's URL when it is registered, like every other way of saving one
(the service does it; see tests/connectors/test_connector_url_resolution.py)."""

import socket

import pytest

from orgconnectors.connectors.models import Connector
from tests.responses import api_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_name(monkeypatch, settings):
    """wiki.example.com resolves to 10.0.0.5 (a stand-in for the system resolver)."""
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "wiki.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_the_api_refuses_a_name_resolving_to_a_private_address(as_owner, private_name):
    response = as_owner.post(
        "/api/v1/orgs/acme/connectors", {"name": "Wiki", "url": "https://wiki.example.com/mcp"}
    )

    assert response.status_code == 400
    assert api_error(response)["errors"] == {
        "url": [
            "This URL cannot be used: wiki.example.com resolves to 10.0.0.5, a private address."
        ]
    }
    assert not Connector.objects.exists()
