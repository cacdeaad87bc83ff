"""Every variable the settings read from the environment has its row in the README's table."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_environment_variable_the_settings_read_is_in_the_readme():
    settings = (ROOT / "orgconnectors" / "settings.py").read_text()
    readme = (ROOT / "README.md").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings))
    # The first cell of each table row names one variable, or a few that go together.
    first_cells = [line.split("|")[1] for line in readme.splitlines() if line.startswith("| `")]

    undocumented = sorted(
        name for name in read if not any(f"`{name}`" in cell for cell in first_cells)
    )

    assert len(read) > 30
    assert undocumented == []
