"""The demo's MCP servers (orgconnectors/demo/) and their registration by seed_demo."""

from io import StringIO

import pytest
from django.core.management import call_command

from orgconnectors.connectors.models import Connection, Connector
from orgconnectors.demo.catalog import DEMO_SERVERS, demo_server
from orgconnectors.demo.mcp_servers import app_for
from orgconnectors.health.probe import ProbeTarget
from tests.health.conftest import serve, stop


@pytest.fixture(scope="module")
def demo_peers():
    started = {
        demo.key: serve(lambda base, demo=demo: app_for(demo))
        for demo in DEMO_SERVERS
        if demo.serves
    }
    yield started
    for served in started.values():
        stop(served)


def test_the_demo_servers_answer_as_the_demo_needs(demo_peers, runner, peers):
    tracker, wiki = demo_server("tracker"), demo_server("wiki")

    found_tracker, found_wiki, found_down = runner.probe_many([
        ProbeTarget(demo_peers["tracker"].url + tracker.path),
        ProbeTarget(demo_peers["wiki"].url + wiki.path),  # auto: Streamable HTTP, then SSE
        ProbeTarget(peers.refused_url),  # as the billing server's port: nobody listens
    ])  # fmt: skip

    assert (found_tracker.outcome, found_tracker.transport) == ("healthy", "streamable_http")
    assert [t["name"] for t in found_tracker.tools] == [
        "search_issues", "create_issue", "delete_issue",
    ]  # fmt: skip
    assert found_tracker.notes  # it has a prompt and a resource the connector does not use
    assert (found_wiki.outcome, found_wiki.transport) == ("healthy", "sse")
    assert [t["name"] for t in found_wiki.tools] == ["search_pages", "read_page", "update_page"]
    assert (found_down.outcome, found_down.error) == ("unreachable", "connection refused")


def test_the_ports_follow_the_port_base(monkeypatch):
    monkeypatch.setenv("ORGCONNECTORS_DEMO_MCP_PORT_BASE", "9100")

    assert [d.url() for d in DEMO_SERVERS] == [
        "https://127.0.0.1:9100/mcp", "https://127.0.0.1:9101/sse", "https://127.0.0.1:9102/mcp",
        "https://127.0.0.1:9103/mcp",
    ]  # fmt: skip


def test_seed_demo_registers_the_demo_servers_once(db, settings):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = True

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    acme = Connector.objects.filter(organization__slug="acme")
    for demo in DEMO_SERVERS:
        connector = acme.get(url=demo.url())
        assert (connector.name, connector.transport, connector.auth) == (
            demo.name, "auto", demo.auth,
        )  # fmt: skip
        # New connectors are due at once: the first sweep checks them.
        assert connector.next_check_at <= connector.created_at
    assert not acme.filter(url__contains="deepwiki").exists()
    tracker = acme.get(url=demo_server("tracker").url())
    assert Connection.objects.filter(connector=tracker, state="enabled").count() == 2
    assert acme.get(url=demo_server("tasks").url()).auth == "oauth"
