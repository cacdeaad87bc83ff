"""Which addresses the guard lets through, and the words it uses when it does not."""

from ipaddress import ip_network

import pytest

from orgconnectors.egress.addresses import blocked_reason, embedded_ipv4, is_public, parse_networks

PUBLIC = None

CLASSIFICATION = [
    # Plain public addresses.
    ("8.8.8.8", PUBLIC),
    ("1.1.1.1", PUBLIC),
    ("2606:4700:4700::1111", PUBLIC),
    # IPv4 ranges.
    ("10.0.0.5", "a private address"),
    ("172.16.0.1", "a private address"),
    ("172.31.255.255", "a private address"),
    ("192.168.1.1", "a private address"),
    ("127.0.0.1", "a loopback address"),
    ("127.255.0.9", "a loopback address"),
    ("169.254.1.1", "a link-local address"),
    ("100.64.0.1", "a carrier-grade NAT (shared) address"),
    ("100.127.255.254", "a carrier-grade NAT (shared) address"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("255.255.255.255", "a broadcast address"),
    ("240.0.0.1", "a reserved address"),
    ("0.0.0.0", "an unspecified address"),
    ("0.1.2.3", "an unspecified address"),
    ("192.0.0.8", "an IETF protocol assignment address"),
    ("192.0.2.10", "a documentation address"),
    ("198.51.100.10", "a documentation address"),
    ("203.0.113.10", "a documentation address"),
    ("198.18.0.1", "a benchmarking address"),
    ("198.19.255.1", "a benchmarking address"),
    # IPv6 ranges.
    ("::", "an unspecified address"),
    ("::1", "a loopback address"),
    ("fe80::1", "a link-local address"),
    ("fe80::1%eth0", "a link-local address"),
    ("ff02::1", "a multicast address"),
    ("fc00::1", "a unique-local address"),
    ("fd12:3456::1", "a unique-local address"),
    ("fec0::1", "a site-local address"),
    ("2001:db8::1", "a documentation address"),
    ("3fff::1", "a documentation address"),
    ("2001:2::1", "a benchmarking address"),
    ("100::1", "a discard-only address"),
    ("4000::1", "a reserved address"),  # outside 2000::/3, yet is_global says True
    # Cloud metadata.
    ("169.254.169.254", "a cloud metadata address"),
    ("fd00:ec2::254", "a cloud metadata address"),
    ("100.100.100.200", "a cloud metadata address"),
    ("169.254.170.2", "a cloud metadata address"),
    # IPv4 carried inside IPv6: the embedded address decides.
    ("::ffff:10.0.0.5", "an IPv4-mapped address embedding 10.0.0.5 (a private address)"),
    ("::ffff:127.0.0.1", "an IPv4-mapped address embedding 127.0.0.1 (a loopback address)"),
    ("::ffff:169.254.169.254", "a cloud metadata address"),
    ("::ffff:8.8.8.8", PUBLIC),
    ("::10.0.0.5", "an IPv4-compatible address embedding 10.0.0.5 (a private address)"),
    ("::8.8.8.8", PUBLIC),
    ("::ffff:0:10.0.0.5", "an IPv4-translated address embedding 10.0.0.5 (a private address)"),
    ("2002:0a00:0005::1", "a 6to4 address embedding 10.0.0.5 (a private address)"),
    ("2002:a9fe:a9fe::", "a cloud metadata address"),
    ("2002:0808:0808::1", PUBLIC),
    ("64:ff9b::10.0.0.5", "a NAT64 address embedding 10.0.0.5 (a private address)"),
    ("64:ff9b::127.0.0.1", "a NAT64 address embedding 127.0.0.1 (a loopback address)"),
    ("64:ff9b::169.254.169.254", "a cloud metadata address"),
    ("64:ff9b::8.8.8.8", PUBLIC),
    ("64:ff9b:1::10.0.0.5", "a NAT64 address embedding 10.0.0.5 (a private address)"),
    ("64:ff9b:1::8.8.8.8", "a local-use NAT64 address"),
    # Teredo: server 65.54.227.120, client 192.0.2.45 (obfuscated as 3fff:fdd2).
    (
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "a Teredo address embedding 192.0.2.45 (a documentation address)",
    ),
    # Teredo with a private client behind it (10.0.0.1 obfuscated as f5ff:fffe).
    (
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",
        "a Teredo address embedding 10.0.0.1 (a private address)",
    ),
    ("2001:0:a00:1::", "a Teredo address embedding 10.0.0.1 (a private address)"),
]


@pytest.mark.parametrize(("address", "expected"), CLASSIFICATION)
def test_it_classifies_each_form_of_address(address, expected):
    assert blocked_reason(address) == expected


def test_is_public_agrees_with_the_classification():
    assert is_public("8.8.8.8")
    assert not is_public("::ffff:10.0.0.5")


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "64:ff9b::127.0.0.1"])
def test_the_loopback_setting_allows_loopback_in_every_form(address):
    assert blocked_reason(address, allow_loopback=True) is None


@pytest.mark.parametrize("address", ["10.0.0.5", "0.0.0.0", "169.254.169.254", "fe80::1"])
def test_the_loopback_setting_allows_nothing_else(address):
    assert blocked_reason(address, allow_loopback=True) is not None


def test_an_allowed_range_opens_up_its_private_addresses():
    allowed = parse_networks("10.20.0.0/16, fd00:1::/64")
    assert blocked_reason("10.20.3.4", allowed_networks=allowed) is None
    assert blocked_reason("fd00:1::5", allowed_networks=allowed) is None
    assert blocked_reason("::ffff:10.20.3.4", allowed_networks=allowed) is None
    assert blocked_reason("10.21.0.1", allowed_networks=allowed) == "a private address"


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("169.254.169.254", "169.254.0.0/16"),
        ("169.254.169.254", "0.0.0.0/0"),
        ("100.100.100.200", "100.64.0.0/10"),
        ("fd00:ec2::254", "fd00::/8"),
        ("::ffff:169.254.169.254", "::/0"),
        ("64:ff9b::169.254.169.254", "64:ff9b::/96"),
    ],
)
def test_an_allowed_range_never_opens_up_cloud_metadata(address, allowed):
    reason = blocked_reason(address, allow_loopback=True, allowed_networks=parse_networks(allowed))
    assert reason == "a cloud metadata address"


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0", "169.254.1.1", "224.0.0.1", "fe80::1"])
def test_an_allowed_range_does_not_open_up_the_host_itself_or_link_local(address):
    allowed = parse_networks("0.0.0.0/0, ::/0")
    assert blocked_reason(address, allowed_networks=allowed) is not None


def test_embedded_ipv4_names_each_form():
    from ipaddress import IPv6Address

    assert embedded_ipv4(IPv6Address("2001:db8::1")) == []
    assert [
        form for form, _ in embedded_ipv4(IPv6Address("2001:0:4136:e378:8000:63bf:3fff:fdd2"))
    ] == [
        "a Teredo address",
        "a Teredo address",
    ]


def test_it_reads_cidr_ranges_from_a_string_or_a_list():
    assert parse_networks("") == ()
    assert parse_networks(None) == ()
    assert parse_networks(["10.0.0.0/8", " "]) == (ip_network("10.0.0.0/8"),)
    assert parse_networks("10.1.2.3/16") == (ip_network("10.1.0.0/16"),)


def test_it_explains_a_range_it_cannot_read():
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not a valid CIDR range"):
        parse_networks("10.0.0.0/33")
