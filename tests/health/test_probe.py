"""The probe engine against real servers on loopback: no protocol mocks."""

import dataclasses
import time

import pytest

from orgconnectors.connectors.tool_definitions import definition_hash
from orgconnectors.health.outcomes import Outcome
from orgconnectors.health.probe import NOTE_NO_TOOLS, NOTE_TOOLS_ONLY, ProbeTarget
from tests.health.conftest import PAGED_TOOLS, TEST_CONFIG


def check(runner, url, config=None, **target):
    return runner.probe_many([ProbeTarget(url, **target)], config=config)[0]


@pytest.mark.parametrize("server", ["streamable", "streamable_json", "stateless", "stateless_json"])
def test_it_finds_a_streamable_http_server_healthy_with_its_tools(runner, peers, server):
    result = check(runner, getattr(peers, server).url + "/mcp")

    assert result.outcome == Outcome.HEALTHY, result.error
    assert result.error == ""
    assert result.transport == "streamable_http"
    assert result.protocol_version
    assert (result.server_name, result.server_version) == ("demo", "1.2.3")
    assert "tools" in result.capabilities
    assert [t["name"] for t in result.tools] == ["search", "delete_issue"]
    assert 0 < result.latency_ms < 3000


def test_it_keeps_each_tool_definition_verbatim_with_its_hash(runner, peers):
    result = check(runner, peers.stateless_json.url + "/mcp")

    search, delete = result.tools
    assert search == {
        "name": "search",
        "title": "Search issues",
        "description": "Search the issue tracker.",
        "inputSchema": {
            "properties": {"query": {"title": "Query", "type": "string"}},
            "required": ["query"],
            "title": "searchArguments",
            "type": "object",
        },
        "outputSchema": {
            "properties": {"result": {"title": "Result", "type": "string"}},
            "required": ["result"],
            "title": "searchOutput",
            "type": "object",
        },
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "hash": search["hash"],
    }
    assert search["hash"] == definition_hash(search)
    assert delete["annotations"] == {"destructiveHint": True}


def test_a_server_with_prompts_gets_a_note_that_only_tools_are_used(runner, peers):
    result = check(runner, peers.stateless_json.url + "/mcp")

    assert NOTE_TOOLS_ONLY.format(what="prompts and resources") in result.notes


def test_it_falls_back_to_legacy_sse_when_streamable_http_is_refused(runner, peers):
    result = check(runner, peers.legacy_sse.url + "/sse")

    assert result.outcome == Outcome.HEALTHY, result.error
    assert result.transport == "sse"
    assert [t["name"] for t in result.tools] == ["search", "delete_issue"]
    requests = [(e[0], e[1]) for e in peers.legacy_sse.log.entries]
    first_get = requests.index(("GET", "/sse"))
    assert first_get > 0 and set(requests[:first_get]) == {("POST", "/sse")}  # 405, then SSE


def test_it_tries_the_transport_that_worked_last_time_first(runner, peers):
    result = check(runner, peers.legacy_sse.url + "/sse", detected_transport="sse")

    assert result.outcome == Outcome.HEALTHY
    assert ("POST", "/sse") not in [(e[0], e[1]) for e in peers.legacy_sse.log.entries]


def test_a_server_that_moved_off_sse_is_found_over_streamable_http(runner, peers):
    result = check(runner, peers.streamable.url + "/mcp", detected_transport="sse")

    assert result.outcome == Outcome.HEALTHY, result.error
    assert result.transport == "streamable_http"


def test_an_owner_choice_of_transport_is_the_only_one_tried(runner, peers):
    result = check(runner, peers.legacy_sse.url + "/sse", transport="streamable_http")

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error == "answered HTTP 405: no MCP endpoint at this URL"


def test_it_negotiates_with_discover_on_a_current_server(runner, peers):
    result = check(runner, peers.stateless.url + "/mcp")

    assert result.protocol_version == "2026-07-28"
    assert peers.stateless.log.rpc_methods()[0] == "server/discover"


@pytest.mark.parametrize(
    "server, answers",
    [
        ("handshake_only", "text/event-stream"),
        ("handshake_only_json", "application/json"),
        ("handshake_only_stateless", "text/event-stream"),
    ],
)
def test_it_falls_back_to_the_initialize_handshake_on_an_older_server(
    runner, peers, server, answers
):
    served = getattr(peers, server)

    result = check(runner, served.url + "/mcp")

    assert result.outcome == Outcome.HEALTHY, result.error
    assert result.protocol_version == "2025-11-25"
    assert result.server_name == "handshake-only"
    assert [t["name"] for t in result.tools] == ["search", "delete_issue"]
    methods = served.log.rpc_methods()
    assert methods[:3] == ["server/discover", "initialize", "notifications/initialized"]
    assert "tools/list" in methods
    assert answers in served.log.content_types


def test_it_lists_every_page_of_tools(runner, peers):
    result = check(runner, peers.paged.url + "/mcp")

    assert result.outcome == Outcome.HEALTHY, result.error
    assert len(result.tools) == PAGED_TOOLS
    assert result.tools[-1]["name"] == f"tool_{PAGED_TOOLS - 1:03d}"
    assert peers.paged.log.rpc_methods().count("tools/list") == 3


def test_a_tool_list_longer_than_the_page_limit_is_degraded_and_not_kept(runner, peers):
    two_pages = dataclasses.replace(TEST_CONFIG, max_tool_pages=2)

    result = check(runner, peers.paged.url + "/mcp", config=two_pages)

    assert result.outcome == Outcome.DEGRADED
    assert result.error == "listing tools failed: the tool list goes on past 2 pages"
    assert result.tools is None


def test_a_tool_list_that_fails_after_a_good_handshake_is_degraded(runner, peers):
    result = check(runner, peers.broken_tools.url + "/mcp")

    assert result.outcome == Outcome.DEGRADED
    assert result.error == (
        "listing tools failed: the server answered an error: the tool registry is offline"
    )
    assert result.tools is None  # the tools known from before are kept
    assert result.server_name == "broken-tools"


def test_a_tool_list_that_never_comes_is_degraded_at_the_deadline(runner, peers):
    short = dataclasses.replace(TEST_CONFIG, timeout=0.5)

    result = check(runner, peers.hanging_tools.url + "/mcp", config=short)

    assert result.outcome == Outcome.DEGRADED
    assert result.error == "listing tools failed: timed out after 0.5 s"
    assert result.server_name == "hanging-tools"


def test_a_server_without_tools_is_healthy_with_a_note_and_an_empty_list(runner, peers):
    result = check(runner, peers.no_tools.url + "/mcp")

    assert result.outcome == Outcome.HEALTHY, result.error
    assert result.tools == []
    assert NOTE_NO_TOOLS in result.notes
    assert "tools/list" not in peers.no_tools.log.rpc_methods()


def test_a_slow_server_is_degraded(runner, peers):
    slow = dataclasses.replace(TEST_CONFIG, slow_ms=0)

    result = check(runner, peers.stateless_json.url + "/mcp", config=slow)

    assert result.outcome == Outcome.DEGRADED
    assert result.error.startswith("slow: the check took ")
    assert result.tools is not None  # slow, but complete


def test_a_protected_server_needs_authorization_and_shows_its_metadata(runner, peers):
    url = peers.protected.url + "/mcp"

    result = check(runner, url)

    assert result.outcome == Outcome.AUTH_REQUIRED
    assert result.http_status == 401
    assert result.error == ""
    metadata = result.oauth["resource_metadata"]
    assert metadata["resource"] == url
    assert metadata["authorization_servers"] == ["https://auth.example.com"]
    assert metadata["scopes_supported"] == ["issues:read"]
    assert result.oauth["resource_metadata_url"] == (
        f"{peers.protected.url}/.well-known/oauth-protected-resource/mcp"
    )
    assert result.tools is None


def test_a_401_without_oauth_metadata_is_misconfigured(runner, peers):
    result = check(runner, peers.faults.url + "/unauthorized")

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error.startswith("asks for authorization (HTTP 401) but publishes no OAuth")


def test_a_refused_connection_is_unreachable(runner, peers):
    result = check(runner, peers.refused_url)

    assert result.outcome == Outcome.UNREACHABLE
    assert result.error == "connection refused"


def test_a_server_that_never_answers_times_out(runner, peers):
    short = dataclasses.replace(TEST_CONFIG, timeout=0.5)
    started = time.monotonic()

    result = check(runner, peers.faults.url + "/hang", config=short)

    assert result.outcome == Outcome.UNREACHABLE
    assert result.error == "timed out after 0.5 s"
    assert time.monotonic() - started < 2


def test_a_500_is_unreachable(runner, peers):
    result = check(runner, peers.faults.url + "/500")

    assert result.outcome == Outcome.UNREACHABLE
    assert result.error == "answered HTTP 500"
    assert result.http_status == 500


def test_an_html_page_is_not_an_mcp_server(runner, peers):
    result = check(runner, peers.faults.url + "/html")

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error == "not an MCP server: answered text/html"


def test_malformed_json_rpc_is_misconfigured(runner, peers):
    result = check(runner, peers.faults.url + "/malformed")

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error == "not an MCP server: its answer is not valid JSON-RPC"


def test_a_redirect_to_the_cloud_metadata_address_is_not_followed(runner, peers):
    result = check(runner, peers.faults.url + "/redirect")

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error.startswith(
        "redirects to http://169.254.169.254/latest/meta-data/, which is not followed"
    )
    assert "cloud metadata address" in result.error


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
def test_an_oversized_answer_is_refused(runner, peers, path):
    result = check(runner, peers.faults.url + path)

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error == "answer larger than 64 KiB"


def test_a_host_resolving_to_a_private_address_is_refused_before_any_request(
    runner, peers, resolver
):
    resolver["intranet.example.com"] = "10.0.0.5"

    result = check(runner, f"http://intranet.example.com:{peers.stateless.port}/mcp")

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error == "intranet.example.com resolves to 10.0.0.5, a private address"
    assert all(not served.log.entries for served in peers.all())


def test_a_host_name_that_does_not_resolve_is_unreachable(runner, peers, resolver):
    resolver["gone.example.com"] = None

    result = check(runner, f"http://gone.example.com:{peers.stateless.port}/mcp")

    assert result.outcome == Outcome.UNREACHABLE
    assert result.error.startswith("the host 'gone.example.com' could not be resolved")


def test_a_checked_address_is_the_one_connected_to(runner, peers, resolver):
    resolver["mcp.example.com"] = "127.0.0.1"

    result = check(runner, f"http://mcp.example.com:{peers.stateless_json.port}/mcp")

    assert result.outcome == Outcome.HEALTHY, result.error


def test_a_certificate_that_does_not_verify_is_a_tls_error(runner, peers):
    result = check(runner, peers.tls.url + "/mcp")

    assert result.outcome == Outcome.MISCONFIGURED
    assert result.error.startswith("TLS error: the certificate is not valid")


def test_a_url_the_guard_refuses_is_never_requested(runner, peers):
    result = check(runner, "ftp://127.0.0.1/mcp")

    assert result.outcome == Outcome.MISCONFIGURED
    assert "only https:// URLs are allowed" in result.error


def test_many_probes_share_the_pool_concurrently(runner, peers):
    targets = [ProbeTarget(peers.stateless_json.url + f"/mcp?c={i}") for i in range(40)]

    results = runner.probe_many(targets)

    assert [r.outcome for r in results] == [Outcome.HEALTHY] * 40


def test_concurrent_probes_each_get_their_own_diagnosis(runner, peers):
    cases = {
        peers.faults.url + "/500": "answered HTTP 500",
        peers.faults.url + "/html": "not an MCP server: answered text/html",
        peers.stateless_json.url + "/mcp": "",
        peers.refused_url: "connection refused",
        peers.faults.url + "/malformed": "not an MCP server: its answer is not valid JSON-RPC",
    }
    urls = list(cases) * 6

    results = runner.probe_many([ProbeTarget(url) for url in urls])

    assert [r.error for r in results] == [cases[url] for url in urls]
