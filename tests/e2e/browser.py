"""A browser tab as the journeys use it: pages are checked with axe-core as they are seen."""

from urllib.parse import urldefrag

from playwright.sync_api import Page, expect

from tests.e2e.accessibility import check_accessibility
from tests.e2e.world import PASSWORD


def _page_url(url: str) -> str:
    # Jumping to an anchor is the same page for axe: the same document.
    return urldefrag(url).url


class Tab:
    def __init__(self, page: Page, *, origin: str):
        self.page = page
        self.origin = origin
        # Every document the tab loaded from the live server, and those checked with axe-core.
        self.loaded: list[str] = []
        self.checked: set[str] = set()
        # The HTML of each checked page, for tests that look for what must never be shown.
        self.html: list[str] = []
        # Violations below "serious", by page, for the session's report.
        self.findings: dict[str, list[dict]] = {}
        # What the Content-Security-Policy refused (a script, a style, a form's target), as the
        # browser reported it: a page that needs more than the policy allows is broken.
        self.csp_refusals: list[str] = []
        page.on("load", self._on_load)
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_refusals.append(f"{self.page.url}: {message.text}")

    def _on_load(self, page: Page) -> None:
        if page.url.startswith(self.origin):
            self.loaded.append(_page_url(page.url))

    def check(self) -> None:
        """Check the page as it is now with axe-core (failing on serious or critical problems)
        and keep its HTML. Call it after each page or each partial update a journey sees."""
        self.page.wait_for_load_state()
        url = _page_url(self.page.url)
        violations = check_accessibility(self.page)
        if violations:
            self.findings.setdefault(url, []).extend(violations)
        self.html.append(self.page.content())
        self.checked.add(url)

    def unchecked(self) -> list[str]:
        return [url for url in dict.fromkeys(self.loaded) if url not in self.checked]

    def visit(self, path: str) -> None:
        """Type an address into the address bar (for the first page of a journey)."""
        self.page.goto(path)
        self.check()

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        """Sign in on allauth's page, as anyone would; ends on the page the role lands on."""
        page = self.page
        self.visit("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()
        expect(page.get_by_text(f"Successfully signed in as {email}.")).to_be_visible()
        self.check()
