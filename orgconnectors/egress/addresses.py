"""Which IP addresses the project may connect to, and why not when it may not.

`ipaddress.is_global` alone is not enough: it calls 4000::1 and ::ffff:10.0.0.1 global, and
it knows nothing of cloud metadata services. The tables below are explicit on purpose.
"""

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Services that hand out credentials to whoever asks from inside the instance. No setting
# unblocks them: an allowed private range or a development machine can still host them.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer: a public-looking address only reachable in Azure
    )
)

# How far a setting can open a range up.
NEVER = "never"  # no setting: these reach the host itself or are not unicast at all
LOOPBACK = "loopback"  # only ORGCONNECTORS_ALLOW_LOOPBACK, for development and tests
INTERNAL = "internal"  # ORGCONNECTORS_EGRESS_ALLOW_CIDRS, for organizations with private servers

_PRIVATE = "a private address"
_DOCUMENTATION = "a documentation address"
_RESERVED = "a reserved address"

_RANGES: list[tuple[IPNetwork, str, str]] = [
    (ip_network(net), reason, kind)
    for net, reason, kind in (
        # 0.0.0.0 and :: connect to the local host on Linux.
        ("0.0.0.0/8", "an unspecified address", NEVER),
        ("::/128", "an unspecified address", NEVER),
        ("127.0.0.0/8", "a loopback address", LOOPBACK),
        ("::1/128", "a loopback address", LOOPBACK),
        # Link-local is where metadata-like services live besides the well-known ones.
        ("169.254.0.0/16", "a link-local address", NEVER),
        ("fe80::/10", "a link-local address", NEVER),
        ("224.0.0.0/4", "a multicast address", NEVER),
        ("ff00::/8", "a multicast address", NEVER),
        ("255.255.255.255/32", "a broadcast address", NEVER),
        ("10.0.0.0/8", _PRIVATE, INTERNAL),
        ("172.16.0.0/12", _PRIVATE, INTERNAL),
        ("192.168.0.0/16", _PRIVATE, INTERNAL),
        ("100.64.0.0/10", "a carrier-grade NAT (shared) address", INTERNAL),
        ("fc00::/7", "a unique-local address", INTERNAL),
        ("fec0::/10", "a site-local address", INTERNAL),
        ("64:ff9b:1::/48", "a local-use NAT64 address", INTERNAL),
        ("192.0.0.0/24", "an IETF protocol assignment address", INTERNAL),
        ("192.0.2.0/24", _DOCUMENTATION, INTERNAL),
        ("198.51.100.0/24", _DOCUMENTATION, INTERNAL),
        ("203.0.113.0/24", _DOCUMENTATION, INTERNAL),
        ("2001:db8::/32", _DOCUMENTATION, INTERNAL),
        ("3fff::/20", _DOCUMENTATION, INTERNAL),
        ("198.18.0.0/15", "a benchmarking address", INTERNAL),
        ("2001:2::/48", "a benchmarking address", INTERNAL),
        ("192.88.99.0/24", _RESERVED, INTERNAL),
        ("240.0.0.0/4", _RESERVED, INTERNAL),
        ("100::/64", "a discard-only address", INTERNAL),
    )
]

_GLOBAL_UNICAST_V6 = ip_network("2000::/3")
_IPV4_MAPPED = ip_network("::ffff:0:0/96")
_IPV4_TRANSLATED = ip_network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = ip_network("::/96")
_NAT64 = (ip_network("64:ff9b::/96"), ip_network("64:ff9b:1::/48"))


def embedded_ipv4(ip: IPv6Address) -> list[tuple[str, IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of the form carrying it.

    A connection to any of these forms can end at the embedded IPv4 address (through the
    kernel, a NAT64 gateway or a tunnel relay), so that address is what must be judged.
    """
    low32 = IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _IPV4_MAPPED:
        return [("an IPv4-mapped address", low32)]
    if ip in _IPV4_TRANSLATED:
        return [("an IPv4-translated address", low32)]
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are their own thing
        return [("an IPv4-compatible address", low32)]
    if any(ip in net for net in _NAT64):
        return [("a NAT64 address", low32)]
    if ip.sixtofour is not None:
        return [("a 6to4 address", ip.sixtofour)]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [("a Teredo address", server), ("a Teredo address", client)]
    return []


def _plain(ip: IPAddress) -> IPAddress:
    # A zone id (fe80::1%eth0) would make set and network membership tests miss.
    if isinstance(ip, IPv6Address) and ip.scope_id:
        return IPv6Address(int(ip))
    return ip


def category(ip: IPAddress) -> tuple[str, str] | None:
    """(reason, kind) for an address that is not public by itself, None for a public one.

    Embedded IPv4 forms are not looked into here; `blocked_reason` does that.
    """
    for net, reason, kind in _RANGES:
        if ip.version == net.version and ip in net:
            return reason, kind
    if isinstance(ip, IPv6Address) and ip not in _GLOBAL_UNICAST_V6:
        return _RESERVED, INTERNAL
    if not ip.is_global:  # what the table leaves out, e.g. the rest of 2001::/23
        return "a non-public address", INTERNAL
    return None


def blocked_reason(
    ip: IPAddress | str,
    *,
    allow_loopback: bool = False,
    allowed_networks: Iterable[IPNetwork] = (),
) -> str | None:
    """Why the project may not connect to `ip`, as words for a person; None if it may."""
    ip = _plain(ip_address(ip) if isinstance(ip, str) else ip)
    allowed_networks = tuple(allowed_networks)
    embedded = embedded_ipv4(ip) if isinstance(ip, IPv6Address) else []
    if ip in METADATA_ADDRESSES or any(v4 in METADATA_ADDRESSES for _, v4 in embedded):
        return "a cloud metadata address"
    for form, v4 in embedded:
        inner = blocked_reason(v4, allow_loopback=allow_loopback, allowed_networks=allowed_networks)
        if inner is not None:
            return f"{form} embedding {v4} ({inner})"
    found = category(ip)
    if found is None:
        return None
    reason, kind = found
    # The carrier prefixes (::ffff:0:0/96, 2002::/16, ...) are not public themselves; what
    # decides is the embedded address, already judged. Local-use NAT64 stays internal.
    if embedded and reason != "a local-use NAT64 address":
        return None
    if kind == NEVER:
        return reason
    if kind == LOOPBACK:
        return None if allow_loopback else reason
    if any(ip.version == net.version and ip in net for net in allowed_networks):
        return None
    return reason


def is_public(ip: IPAddress | str) -> bool:
    """Whether `ip` is acceptable with no setting opening anything up."""
    return blocked_reason(ip) is None


def parse_networks(value: str | Iterable[str] | None) -> tuple[IPNetwork, ...]:
    """CIDR ranges from "10.1.0.0/16, fd00:1::/64" or a list of such strings."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    networks = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not a valid CIDR range such as 10.1.0.0/16") from None
    return tuple(networks)
