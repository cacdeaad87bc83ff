"""Node's `oidc-provider` (tests/peers/oidc_provider.mjs) as a real OpenID Connect provider on
127.0.0.1, with one confidential client per test organization.

The package comes from npm through tests/peers/node_tools.py (skipped off CI without npm)."""

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.peers.node_tools import NODE_MODULES, node_for
from tests.servers import wait_for

SCRIPT = Path(__file__).resolve().parent / "oidc_provider.mjs"
START_SECONDS = 30


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class OidcPeer:
    issuer: str
    client: OidcClient

    def sign_in(self, authorize_url: str, email: str, *, email_verified: bool = True) -> str:
        """Follow the authorization request as a person signing in as `email` at the provider;
        the redirect back to the relying party's callback (with the code)."""
        with httpx.Client(timeout=10) as browser:
            response = browser.get(authorize_url)
            for _ in range(10):
                location = response.headers.get("location", "")
                if location.startswith(self.client.redirect_uri):
                    return location
                if response.status_code == 200 and "/interaction/" in str(response.url):
                    form = {"email": email}
                    if not email_verified:
                        form["email_verified"] = "false"
                    response = browser.post(str(response.url), data=form)
                    continue
                if response.status_code not in (302, 303) or not location:
                    raise AssertionError(
                        f"the provider answered {response.status_code}: {response.text[:500]}"
                    )
                response = browser.get(httpx.URL(str(response.url)).join(location))
        raise AssertionError("the provider never redirected back to the callback")


def node_with_oidc_provider() -> Path:
    """The Node binary of .ci/node-tools' install, with oidc-provider beside it."""
    return node_for("Node's oidc-provider", NODE_MODULES / "oidc-provider" / "package.json")


@contextmanager
def running_oidc_peer(node: Path, client: OidcClient) -> Iterator[OidcPeer]:
    env = dict(os.environ)
    env["OIDC_PEER_NODE_MODULES"] = str(NODE_MODULES)
    env["OIDC_PEER_CLIENTS"] = json.dumps(
        [
            {
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "redirect_uris": [client.redirect_uri],
                "token_endpoint_auth_method": "client_secret_post",
            }
        ]
    )
    with tempfile.NamedTemporaryFile("w+b", suffix=".log") as log:
        process = subprocess.Popen(
            [str(node), str(SCRIPT)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:

            def ready() -> str | None:
                output = Path(log.name).read_text(errors="replace")
                if process.poll() is not None:
                    raise AssertionError(f"oidc-provider exited:\n{output[-3000:]}")
                for line in output.splitlines():
                    if line.startswith("READY "):
                        return line.split(" ", 1)[1].strip()
                return None

            issuer = wait_for(ready, timeout=START_SECONDS, what="oidc-provider to listen")
            yield OidcPeer(issuer=issuer, client=client)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
