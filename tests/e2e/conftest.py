"""Browser journeys: Debian's Chromium, driven by Playwright, against the running product.

The live server (pytest-django's, a thread of this process) and a real Celery worker (a
subprocess started once for all journeys) share the test database on PostgreSQL and the broker on
Redis. Each journey is a transactional test, so what it sets up is committed and both see it:

    pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

(serialized_rollback brings back the plans of the data migration after each test's flush).

Run them with `make test-e2e`. Screenshots of each journey's last page, the worker's log and a
report of the minor accessibility findings go to test-artifacts/e2e/.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Browser, expect, sync_playwright

from orgconnectors.celery import app as celery_app
from tests.e2e.accessibility import describe
from tests.e2e.browser import Tab

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    # Tests run as root in CI, where Chromium's sandbox cannot start.
    "--no-sandbox",
    "--disable-gpu",
    # Nothing but the live server: no updates, sync or other calls home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine; a step that takes this long is stuck, not slow.
STEP_TIMEOUT_MS = 15_000
WORKER_START_SECONDS = 60
WORKER_STOP_SECONDS = 20


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets fixtures know at teardown whether the test itself failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request) -> bool:
    report = getattr(request.node, "report_call", None)
    return report is None or report.failed


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Only this run's screenshots: one of a renamed or deleted journey would mislead.
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


# Package scope: the browser and the worker end with the last test of tests/e2e, even in a run
# of the whole suite, whose other tests must not see Playwright's event loop.


@pytest.fixture(scope="package")
def chromium(django_db_setup) -> Iterator[Browser]:
    """Debian's Chromium (never a downloaded browser), for every journey.

    It depends on the test database so it closes before the database is dropped."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}; install it with "
            "`apt-get install chromium` (.ci/run does)."
        )
    # The sync API runs Playwright's event loop in this thread, and while it exists Django sees
    # "async code": its guard refuses the test's own (synchronous) database calls, and its
    # connection handler gives this thread new connection objects, without the copy of the
    # data migrations' rows that serialized_rollback restores after each flush.
    serialized = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            for alias, contents in serialized.items():
                connections[alias]._test_serialized_contents = contents
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            expect.set_options(timeout=STEP_TIMEOUT_MS)
            yield browser
            browser.close()
            # Those connections must not hold the test database open when it is dropped.
            connections.close_all()


def _test_database_url() -> str:
    """DATABASE_URL with the test database's name, for processes other than this one."""
    database = connections["default"]
    if database.vendor != "postgresql" or not os.environ.get("DATABASE_URL"):
        pytest.fail("The browser tests run on PostgreSQL: set DATABASE_URL (`make test-e2e` does).")
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + database.settings_dict["NAME"]))


def _ping(worker: str) -> bool:
    replies = celery_app.control.ping(destination=[worker], timeout=1.0)
    return any(worker in reply for reply in replies)


@pytest.fixture(scope="package")
def celery_worker(django_db_setup, artifacts) -> Iterator[str]:
    """A real Celery worker on Redis and the test database, for every journey; its node name.

    Tasks the live server enqueues run there, as in production. It depends on the test
    database so it stops (and lets go of its connections) before the database is dropped."""
    if not os.environ.get("REDIS_URL"):
        pytest.fail("The browser tests run Celery on Redis: set REDIS_URL (`make test-e2e` does).")
    name = f"e2e-{os.getpid()}@{socket.gethostname()}"
    env = {**os.environ, "DATABASE_URL": _test_database_url()}
    log_path = artifacts / "celery-worker.log"
    command = [
        *(sys.executable, "-m", "celery", "-A", "orgconnectors", "worker"),
        *("--pool=solo", "--loglevel=INFO", f"--hostname={name}"),
        # Alone on its broker: nothing to synchronise with, which makes it ready sooner.
        *("--without-mingle", "--without-gossip"),
    ]
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        # Each ping waits up to a second for the answer; no fixed sleeps.
        while not _ping(name):
            if worker.poll() is not None or time.monotonic() > deadline:
                state = "exited" if worker.returncode is not None else "did not answer"
                tail = log_path.read_text()[-3000:]
                pytest.fail(f"The Celery worker {state}; the end of its log:\n{tail}")
        yield name
    finally:
        # SIGTERM: a warm shutdown, which finishes the task at hand.
        worker.terminate()
        try:
            worker.wait(timeout=WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@pytest.fixture(scope="package")
def accessibility_report(artifacts) -> Iterator[dict[str, list[dict]]]:
    """Findings below "serious" of all journeys, by page path, written at the end."""
    findings: dict[str, list[dict]] = {}
    yield findings
    lines = []
    for path, violations in sorted(findings.items()):
        unique = {v["id"]: v for v in violations}
        lines.append(path)
        lines.extend("  " + describe(v).replace("\n", "\n  ") for v in unique.values())
    text = "\n".join(lines) if lines else "No findings."
    (artifacts / "axe-minor-findings.txt").write_text(text + "\n")


def _screenshot_name(request, index: int, count: int) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
    return f"{name}.png" if index == count - 1 else f"{name}.{index + 1}.png"


@pytest.fixture
def browse(chromium, live_server, celery_worker, artifacts, accessibility_report, request):
    """browse(width=, height=) -> a new Tab in a fresh browser context (nobody signed in).

    At the end of the test each tab's page is saved as a screenshot: the tab opened last, where
    the journey ends, as test-artifacts/e2e/<test name>.png. Every page a tab loaded must have
    been checked with axe-core (Tab.check)."""
    tabs: list[Tab] = []

    def open_tab(*, width: int = 1280, height: int = 900) -> Tab:
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(STEP_TIMEOUT_MS)
        tab = Tab(context.new_page(), origin=live_server.url)
        tabs.append(tab)
        return tab

    yield open_tab

    for index, tab in enumerate(tabs):
        try:
            tab.page.screenshot(
                path=artifacts / _screenshot_name(request, index, len(tabs)), full_page=True
            )
        finally:
            tab.page.context.close()
        for url, violations in tab.findings.items():
            accessibility_report.setdefault(urlsplit(url).path, []).extend(violations)
    if not _failed(request):
        unchecked = [url for tab in tabs for url in tab.unchecked()]
        assert not unchecked, f"Pages seen but never checked with axe-core: {unchecked}"
        refused = [refusal for tab in tabs for refusal in tab.csp_refusals]
        assert not refused, f"The Content-Security-Policy refused: {refused}"
