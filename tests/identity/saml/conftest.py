import pytest

from tests.peers.saml_idp import start_saml_idp


@pytest.fixture
def saml_idp():
    """pysaml2's identity provider on loopback, with a key and certificate made for this test."""
    peer = start_saml_idp()
    yield peer
    peer.stop()
