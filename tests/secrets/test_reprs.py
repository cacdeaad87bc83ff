"""Objects that carry a token or a secret leave it out of their repr: a repr is what a log line,
a traceback's locals or a Celery error message show."""

from orgconnectors.health.bearer import _Bearer
from orgconnectors.health.probe import ProbeTarget
from orgconnectors.messages_api.builder import Policy, Server
from orgconnectors.messages_api.selectors import Held
from orgconnectors.messages_api.services import Token
from orgconnectors.oauth.refresh_leases import Claim
from orgconnectors.oauth.token_endpoint import ClientAuth, TokenSet

SECRET = "planted-secret-b7e1c0d9"


def _carriers() -> list[object]:
    return [
        Server(name="crm", url="https://crm.example/mcp", policy=Policy(True), token=SECRET),
        Token(value=SECRET, expires_at=None),
        Held(facts=None, connection_id=1, has_credential=True, access_token_encrypted=SECRET),
        Claim(credential_id=1, lease_token=SECRET, generation=1),
        TokenSet(access_token=SECRET, token_type="Bearer", expires_in=60, refresh_token=SECRET),
        ClientAuth(client_id="client", client_secret=SECRET, method="client_secret_post"),
        ProbeTarget(url="https://crm.example/mcp", access_token=SECRET),
        _Bearer(origin=("https", "crm.example", None), token=SECRET),
    ]


def test_no_object_that_carries_a_secret_shows_it_in_its_repr_or_str():
    shown = {type(carrier).__name__: (repr(carrier), str(carrier)) for carrier in _carriers()}
    leaking = sorted(name for name, texts in shown.items() if any(SECRET in t for t in texts))
    assert leaking == []
