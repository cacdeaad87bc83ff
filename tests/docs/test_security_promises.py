"""docs/security.md names, for each promise, the test that holds it: every name must stay real.

A promise whose test is renamed or removed would read as kept while nothing checks it.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECURITY = ROOT / "docs" / "security.md"
# `tests/egress/test_bombs.py::test_a_bomb`, or a file alone: `tests/web/test_no_store.py`
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def _references() -> list[tuple[str, str | None]]:
    return REFERENCE.findall(SECURITY.read_text())


def test_every_promise_in_the_security_document_names_a_test():
    promises = [line for line in SECURITY.read_text().splitlines() if line.startswith("- ")]

    without_test = [line for line in promises if not REFERENCE.search(line)]

    assert len(promises) > 50
    assert without_test == []


def test_every_test_the_security_document_names_exists():
    missing = []
    for path, name in _references():
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"^(async )?def {name}\(", source.read_text(), re.M):
            missing.append(f"{path}::{name}")

    assert len(_references()) > 50
    assert missing == []
