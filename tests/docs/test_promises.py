"""docs/security.md and docs/operations.md name, for each promise, the test that holds it:
every name must stay real.

A promise whose test is renamed or removed would read as kept while nothing checks it.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `tests/egress/test_bombs.py::test_a_bomb`, or a file alone: `tests/web/test_no_store.py`
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")
DOCUMENTS = pytest.mark.parametrize(
    "document, at_least", [("security.md", 50), ("operations.md", 20)]
)


def _text(document: str) -> str:
    return (ROOT / "docs" / document).read_text()


@DOCUMENTS
def test_every_promise_in_the_document_names_a_test(document, at_least):
    promises = [line for line in _text(document).splitlines() if line.startswith("- ")]

    without_test = [line for line in promises if not REFERENCE.search(line)]

    assert len(promises) > at_least
    assert without_test == []


@DOCUMENTS
def test_every_test_the_document_names_exists(document, at_least):
    references = REFERENCE.findall(_text(document))
    missing = []
    for path, name in references:
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"^(async )?def {name}\(", source.read_text(), re.M):
            missing.append(f"{path}::{name}")

    assert len(references) > at_least
    assert missing == []
