"""URL rules and DNS checks, with DNS answered by a stand-in for socket.getaddrinfo."""

import asyncio
import socket

import pytest

from orgconnectors.egress import guard
from orgconnectors.egress.addresses import parse_networks
from orgconnectors.egress.guard import (
    EgressError,
    EgressPolicy,
    EgressRefused,
    aresolve_and_check,
    check_url,
    read_setting,
    resolve_and_check,
)

STRICT = EgressPolicy()
LOOPBACK = EgressPolicy(allow_loopback=True)
INTERNAL = EgressPolicy(allowed_networks=parse_networks("10.20.0.0/16"))


@pytest.fixture
def dns(monkeypatch):
    """Answers getaddrinfo from `answers` (host -> addresses) and records each question."""
    answers: dict[str, list[str]] = {}
    calls: list[str] = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return answers, calls


def test_it_accepts_a_public_https_url():
    check_url("https://mcp.example.com/mcp", policy=STRICT)


def test_it_refuses_plain_http():
    with pytest.raises(EgressRefused, match=r"^http:// is not allowed; use https://$"):
        check_url("http://mcp.example.com/mcp", policy=STRICT)


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "ws://example.com/"])
def test_it_refuses_other_schemes(url):
    with pytest.raises(EgressRefused, match="only https:// URLs are allowed"):
        check_url(url, policy=LOOPBACK)


def test_the_loopback_setting_allows_plain_http():
    check_url("http://mcp.example.com/mcp", policy=LOOPBACK)


def test_it_refuses_a_url_without_a_host():
    with pytest.raises(EgressRefused, match="the URL has no host"):
        check_url("https:///mcp", policy=STRICT)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://[::1/", "is not a valid URL"),
        ("https://exa mple.com/", "is not a valid host name"),
        ("https://example.com:99999/", "the port 99999 is not a valid port"),
    ],
)
def test_it_refuses_a_url_it_cannot_make_sense_of(url, message):
    with pytest.raises(EgressRefused, match=message):
        check_url(url, policy=STRICT)


def test_it_refuses_credentials_in_the_url():
    with pytest.raises(EgressRefused, match="must not contain a user name or password"):
        check_url("https://alice:secret@mcp.example.com/", policy=STRICT)


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST", "localhost.", "api.localhost", "localhost.localdomain"]
)
def test_it_refuses_loopback_names(host):
    with pytest.raises(EgressRefused, match=rf"^the host '{host.lower()}' is a loopback address$"):
        check_url(f"https://{host}/mcp", policy=STRICT)


def test_the_loopback_setting_allows_loopback_names():
    check_url("http://localhost:8000/mcp", policy=LOOPBACK)


@pytest.mark.parametrize(
    ("host", "suffix"),
    [
        ("printer.local", ".local"),
        ("metadata.google.internal", ".internal"),
        ("nas.home.arpa", ".home.arpa"),
    ],
)
def test_it_refuses_private_network_names(host, suffix):
    with pytest.raises(EgressRefused, match=f"is a private network name \\({suffix}\\)"):
        check_url(f"https://{host}/", policy=STRICT)


def test_it_refuses_single_label_names():
    with pytest.raises(EgressRefused, match="the host 'intranet' has no domain"):
        check_url("https://intranet/mcp", policy=STRICT)


def test_allowed_internal_ranges_let_private_names_through_to_the_dns_check():
    check_url("https://mcp.corp.internal/", policy=INTERNAL)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://10.0.0.5/", "the host '10.0.0.5' is a private address"),
        ("https://127.0.0.1:8443/", "the host '127.0.0.1' is a loopback address"),
        ("https://[::1]/", "the host '::1' is a loopback address"),
        (
            "https://169.254.169.254/latest/",
            "the host '169.254.169.254' is a cloud metadata address",
        ),
        ("https://[::ffff:10.0.0.5]/", "an IPv4-mapped address embedding 10.0.0.5"),
        ("https://[64:ff9b::a9fe:a9fe]/", "is a cloud metadata address"),
        ("https://127.0.0.1./", "the host '127.0.0.1.' is a loopback address"),
        ("https://[fe80::1%25eth0]/", "is a link-local address"),
    ],
)
def test_it_refuses_literal_addresses_that_are_not_public(url, message):
    with pytest.raises(EgressRefused, match=message.replace(".", r"\.").replace("(", r"\(")):
        check_url(url, policy=STRICT)


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "017700000001", "10.1"])
def test_it_refuses_ip_addresses_written_in_non_standard_forms(host):
    with pytest.raises(EgressRefused, match="written in a non-standard form"):
        check_url(f"https://{host}/", policy=LOOPBACK)


def test_the_loopback_setting_allows_literal_loopback_but_not_metadata():
    check_url("http://127.0.0.1:8000/", policy=LOOPBACK)
    with pytest.raises(EgressRefused, match="cloud metadata"):
        check_url("http://169.254.169.254/", policy=LOOPBACK)


def test_it_returns_every_address_of_a_host_that_resolves_to_public_addresses(dns):
    answers, _ = dns
    answers["mcp.example.com"] = ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"]
    addresses = resolve_and_check("mcp.example.com", 443, policy=STRICT)
    assert [str(ip) for ip in addresses] == ["93.184.216.34", "2606:2800:220:1::1"]


def test_it_refuses_a_host_resolving_to_a_private_address(dns):
    answers, _ = dns
    answers["mcp.example.com"] = ["10.0.0.5"]
    with pytest.raises(
        EgressRefused, match=r"^mcp.example.com resolves to 10.0.0.5, a private address$"
    ):
        resolve_and_check("mcp.example.com", 443, policy=STRICT)


def test_it_refuses_a_host_when_any_one_of_its_addresses_is_not_public(dns):
    answers, _ = dns
    answers["mixed.example.com"] = ["93.184.216.34", "::ffff:192.168.0.10"]
    with pytest.raises(EgressRefused, match="IPv4-mapped address embedding 192.168.0.10"):
        resolve_and_check("mixed.example.com", 443, policy=STRICT)


def test_it_refuses_a_host_resolving_to_cloud_metadata_even_in_an_allowed_range(dns):
    answers, _ = dns
    answers["sneaky.example.com"] = ["169.254.169.254"]
    policy = EgressPolicy(allow_loopback=True, allowed_networks=parse_networks("169.254.0.0/16"))
    with pytest.raises(EgressRefused, match="a cloud metadata address"):
        resolve_and_check("sneaky.example.com", 443, policy=policy)


def test_an_allowed_range_lets_a_private_server_through(dns):
    answers, _ = dns
    answers["mcp.corp.internal"] = ["10.20.1.2"]
    assert [str(ip) for ip in resolve_and_check("mcp.corp.internal", 443, policy=INTERNAL)] == [
        "10.20.1.2"
    ]


def test_a_host_that_does_not_resolve_is_an_error_but_not_a_refusal(dns):
    with pytest.raises(EgressError) as caught:
        resolve_and_check("nowhere.example.com", 443, policy=STRICT)
    assert not isinstance(caught.value, EgressRefused)
    assert str(caught.value) == (
        "the host 'nowhere.example.com' could not be resolved: no DNS record exists for it"
    )


def test_a_dns_failure_for_now_says_it_may_pass(monkeypatch):
    def failing_for_now(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", failing_for_now)
    with pytest.raises(EgressError, match="the DNS lookup failed for now"):
        resolve_and_check("flaky.example.com", 443, policy=STRICT)


def test_a_literal_address_is_judged_without_asking_dns(dns):
    _, calls = dns
    assert [str(ip) for ip in resolve_and_check("8.8.8.8", 443, policy=STRICT)] == ["8.8.8.8"]
    with pytest.raises(EgressRefused, match="the host '10.0.0.1' is a private address"):
        resolve_and_check("10.0.0.1", 443, policy=STRICT)
    assert calls == []


def test_the_async_check_resolves_in_a_thread_and_refuses_the_same_way(dns):
    answers, _ = dns
    answers["good.example.com"] = ["93.184.216.34"]
    answers["bad.example.com"] = ["100.64.3.3"]
    good = asyncio.run(aresolve_and_check("good.example.com", 443, policy=STRICT, timeout=5))
    assert [str(ip) for ip in good] == ["93.184.216.34"]
    with pytest.raises(EgressRefused, match="carrier-grade NAT"):
        asyncio.run(aresolve_and_check("bad.example.com", 443, policy=STRICT, timeout=5))


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)]
)
def test_the_policy_reads_the_loopback_setting(monkeypatch, raw, expected):
    values = {"ORGCONNECTORS_ALLOW_LOOPBACK": raw, "ORGCONNECTORS_EGRESS_ALLOW_CIDRS": ""}
    monkeypatch.setattr(guard, "read_setting", lambda name, default=None: values.get(name, default))
    assert EgressPolicy.from_settings().allow_loopback is expected


def test_the_policy_reads_allowed_ranges_as_a_string_or_a_list(monkeypatch):
    for value in ("10.1.0.0/16,fd00:1::/64", ["10.1.0.0/16", "fd00:1::/64"]):
        values = {"ORGCONNECTORS_ALLOW_LOOPBACK": False, "ORGCONNECTORS_EGRESS_ALLOW_CIDRS": value}
        monkeypatch.setattr(guard, "read_setting", lambda name, default=None, v=values: v[name])
        assert EgressPolicy.from_settings().allowed_networks == parse_networks(value)


def test_settings_fall_back_to_the_environment(monkeypatch):
    monkeypatch.setenv("ORGCONNECTORS_EGRESS_TEST_ONLY_VALUE", "42")
    assert read_setting("ORGCONNECTORS_EGRESS_TEST_ONLY_VALUE") == "42"
    assert read_setting("ORGCONNECTORS_EGRESS_TEST_ONLY_MISSING", "x") == "x"


def test_a_refusal_is_a_value_error_and_an_egress_error():
    assert issubclass(EgressRefused, ValueError)
    assert issubclass(EgressRefused, EgressError)
