"""A connector's URL is resolved when it is saved, and refused if its host resolves somewhere the
project never connects to (the check before each connection stays the real guard).

Names that must resolve to a chosen address are answered by a stand-in for the system
resolver; everything else (IP literals, localhost, a name under .invalid) goes to the real one.
"""

import socket

import pytest
from django.test import Client
from django.urls import reverse

from orgconnectors.audit.models import AuditEvent
from orgconnectors.connectors.errors import ConnectorError
from orgconnectors.connectors.models import Connector
from orgconnectors.connectors.services import connector_register
from orgconnectors.health.pool import ProbeRunner
from orgconnectors.health.probe import ProbeConfig, ProbeTarget

PUBLIC = "93.184.215.14"


@pytest.fixture
def dns(monkeypatch):
    """`dns[name] = address`: what the stand-in resolver answers for that name."""
    answers: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def register(org, owner, actor):
    def call(url: str) -> Connector:
        return connector_register(organization=org, actor=actor(owner), name="Wiki", url=url)

    return call


@pytest.fixture
def no_loopback(settings):
    settings.ORGCONNECTORS_ALLOW_LOOPBACK = False


def refusal(register, url: str) -> str:
    with pytest.raises(ConnectorError) as refused:
        register(url)
    assert refused.value.field == "url"
    assert not Connector.objects.exists()
    assert not AuditEvent.objects.exists()
    return refused.value.message


@pytest.mark.parametrize(
    "address, reason",
    [
        ("10.0.0.5", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("169.254.10.1", "a link-local address"),
        ("100.64.0.9", "a carrier-grade NAT (shared) address"),
        ("fd00::1", "a unique-local address"),
        ("169.254.169.254", "a cloud metadata address"),
    ],
)
def test_a_name_resolving_to_a_local_address_is_refused_with_the_reason(
    register, dns, no_loopback, address, reason
):
    dns["wiki.example.com"] = address

    message = refusal(register, "https://wiki.example.com/mcp")

    assert message == f"This URL cannot be used: wiki.example.com resolves to {address}, {reason}."


@pytest.mark.parametrize(
    "url, says",
    [
        ("https://10.0.0.5/mcp", "'10.0.0.5' is a private address"),
        ("https://[fd00::1]/", "'fd00::1' is a unique-local address"),
        ("https://169.254.169.254/", "'169.254.169.254' is a cloud metadata address"),
        ("https://localhost/mcp", "'localhost' is a loopback address"),
    ],
)
def test_local_ip_literals_and_localhost_are_refused(register, no_loopback, url, says):
    assert says in refusal(register, url)


def test_a_name_resolving_to_a_public_address_is_accepted(register, dns, no_loopback):
    dns["wiki.example.com"] = PUBLIC

    assert register("https://wiki.example.com/mcp").url == "https://wiki.example.com/mcp"


def test_a_name_that_does_not_resolve_is_accepted_and_its_health_check_says_so(
    register, no_loopback
):
    connector = register("https://does-not-exist.invalid/mcp")

    assert connector.url == "https://does-not-exist.invalid/mcp"
    runner = ProbeRunner(config=ProbeConfig(timeout=5.0), concurrency=1)
    try:
        result = runner.probe_many([ProbeTarget(connector.url)])[0]
    finally:
        runner.close()
    assert result.outcome == "unreachable"
    assert result.error.startswith("the host 'does-not-exist.invalid' could not be resolved")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/mcp", "http://localhost:8000/mcp", "http://[::1]:8000/mcp"]
)
def test_with_loopback_allowed_http_is_accepted_for_loopback_hosts(register, url):
    assert register(url).url == url


def test_with_loopback_allowed_http_to_a_name_resolving_to_loopback_is_accepted(register, dns):
    dns["dev.example.com"] = "127.0.0.1"

    assert register("http://dev.example.com:8000/mcp").url == "http://dev.example.com:8000/mcp"


@pytest.mark.parametrize(
    "url, answer, says",
    [
        ("http://wiki.example.com/mcp", PUBLIC, f"(wiki.example.com resolves to {PUBLIC})"),
        ("http://does-not-exist.invalid/mcp", None, "(does-not-exist.invalid does not resolve)"),
        ("http://93.184.215.14/mcp", None, ""),
    ],
)
def test_with_loopback_allowed_http_to_anything_else_stays_refused(
    register, dns, url, answer, says
):
    if answer:
        dns["wiki.example.com"] = answer

    message = refusal(register, url)

    assert message == (
        f"This URL cannot be used: http:// is allowed only for loopback hosts; use https://"
        f"{' ' + says if says else ''}."
    )


def test_the_add_form_refuses_a_name_resolving_to_a_private_address(owner, dns, no_loopback):
    dns["wiki.example.com"] = "10.0.0.5"
    client = Client()
    client.force_login(owner.user)

    response = client.post(
        reverse("connector_add", args=["acme"]),
        {
            "name": "Wiki",
            "url": "https://wiki.example.com/mcp",
            "transport": "auto",
            "auth": "none",
            "tool_default": "allow",
        },
    )

    assert response.status_code == 400
    assert "wiki.example.com resolves to 10.0.0.5, a private address" in response.content.decode()
    assert not Connector.objects.exists()
