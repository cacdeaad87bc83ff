"""The npm tools the tests drive (the MCP Inspector CLI, Node's oidc-provider), installed pinned
into .ci/node/ (git-ignored) by .ci/node-tools, which also brings the Node 22 they run on.
Without npm or the network the tests that need them are skipped with the reason, except in CI
(CI set), where they fail instead."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".ci" / "node" / "node_modules"
INSTALL_SECONDS = 600


def unavailable(tool: str, reason: str):
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{tool} is needed in CI: {reason}")
    pytest.skip(f"{tool} is not available: {reason}")


def node_for(tool: str, needed: Path) -> Path:
    """The Node binary of .ci/node-tools' install, once `needed` (a file the tool's package
    holds) is there; skips or fails as above, naming `tool`."""
    if shutil.which("npm") is None:
        unavailable(tool, "npm is not on this machine")
    try:
        done = subprocess.run(
            [str(ROOT / ".ci" / "node-tools")],
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        unavailable(tool, f"npm did not install it within {INSTALL_SECONDS} s")
    if done.returncode != 0:
        unavailable(tool, f"npm could not install it (offline?): {done.stderr.strip()[-500:]}")
    if not needed.is_file():
        unavailable(tool, f"{needed.relative_to(ROOT)} is missing after the install")
    return Path(done.stdout.strip().splitlines()[-1])
