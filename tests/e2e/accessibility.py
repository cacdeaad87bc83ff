"""axe-core in the page: the accessibility check every browser test runs on every page it visits.

axe-core (MPL-2.0, by Deque Systems) is vendored in vendor/axe.min.js with its license header, so
the check needs no network. To update it: `npm pack axe-core@4`, then copy package/axe.min.js.
"""

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# What fails a test; "moderate" and "minor" findings are only written to the session report.
BLOCKING = frozenset({"serious", "critical"})
# Nodes shown per violation in a failure message: enough to find the element, not a page dump.
NODES_SHOWN = 5


@cache
def _axe_source() -> str:
    return AXE.read_text()


def axe_violations(page: Page) -> list[dict]:
    """Every WCAG violation axe-core finds in the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated by the browser's debugger, which the page's Content-Security-Policy does not
        # govern; an added <script> would be refused like any inline script without the nonce.
        page.evaluate(_axe_source())
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )


def describe(violation: dict) -> str:
    lines = [f"{violation['impact']}: {violation['id']}: {violation['help']}"]
    for node in violation["nodes"][:NODES_SHOWN]:
        target = " ".join(str(part) for part in node["target"])
        summary = " ".join(node.get("failureSummary", "").split())
        lines.append(f"    at {target}: {summary}")
    if len(violation["nodes"]) > NODES_SHOWN:
        lines.append(f"    and {len(violation['nodes']) - NODES_SHOWN} more elements")
    return "\n".join(lines)


def check_accessibility(page: Page) -> list[dict]:
    """Fail on serious or critical violations; hand back the others for the report."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core finds serious problems on {page.url}:\n" + "\n".join(
        describe(v) for v in blocking
    )
    return violations
