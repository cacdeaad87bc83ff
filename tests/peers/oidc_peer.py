"""Node's `oidc-provider` (tests/peers/oidc_provider.mjs) as a real OpenID Connect provider on
127.0.0.1, with one confidential client per test organization.

The package comes from npm, pinned, into .ci/node/ (git-ignored) by .ci/node-tools, which also
brings the Node 22 it runs on. Without npm or the network the tests that need it are skipped
with the reason, except in CI (CI set), where they fail instead."""

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import wait_for

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "peers" / "oidc_provider.mjs"
INSTALL_SECONDS = 600
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


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"Node's oidc-provider is needed in CI: {reason}")
    pytest.skip(f"Node's oidc-provider is not available: {reason}")


def node_with_oidc_provider() -> Path:
    """The Node binary of .ci/node-tools' install, with oidc-provider beside it."""
    if shutil.which("npm") is None:
        _unavailable("npm is not on this machine")
    try:
        done = subprocess.run(
            [str(ROOT / ".ci" / "node-tools")],
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        _unavailable(f"npm did not install it within {INSTALL_SECONDS} s")
    if done.returncode != 0:
        _unavailable(f"npm could not install it (offline?): {done.stderr.strip()[-500:]}")
    node = Path(done.stdout.strip().splitlines()[-1])
    if not (ROOT / ".ci/node/node_modules/oidc-provider/package.json").is_file():
        _unavailable("oidc-provider is missing from .ci/node after the install")
    return node


@contextmanager
def running_oidc_peer(node: Path, client: OidcClient) -> Iterator[OidcPeer]:
    env = dict(os.environ)
    env["OIDC_PEER_NODE_MODULES"] = str(ROOT / ".ci" / "node" / "node_modules")
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
