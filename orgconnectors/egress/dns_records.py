"""DNS TXT lookups, the egress module's resolver for proofs published in DNS (a claimed domain's
`_orgconnectors-challenge` record). Bounded in time and in what it keeps of an answer; the
servers asked are ORGCONNECTORS_DNS_RESOLVERS (comma-separated `host[:port]`, IP addresses),
or the system's when unset."""

from ipaddress import ip_address

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from django.core.exceptions import ImproperlyConfigured

from orgconnectors.egress.guard import EgressError, read_setting

# An owner publishes one short record; a name answering more than this is not a proof we need
# to read whole, and keeping all of it would let a hostile zone fill memory.
MAX_RECORDS = 50
MAX_RECORD_CHARS = 2048
DEFAULT_TIMEOUT = 5.0


class DnsLookupFailed(EgressError):
    """The name could not be looked up; the message says why, for a person."""


def parse_resolvers(value) -> list[tuple[str, int]]:
    """[(ip, port)] from "1.1.1.1, 9.9.9.9:53, [2606:4700::1111]:53"; fails loudly on a typo."""
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    resolvers = []
    for item in (str(item).strip() for item in items):
        if not item:
            continue
        host, port = item, 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            if rest:
                port = _port(item, rest.removeprefix(":"))
        elif item.count(":") == 1:
            host, port_text = item.split(":")
            port = _port(item, port_text)
        try:
            ip_address(host)
        except ValueError:
            raise ImproperlyConfigured(
                f"ORGCONNECTORS_DNS_RESOLVERS: {item!r} is not an IP address (host[:port])"
            ) from None
        resolvers.append((host, port))
    return resolvers


def _port(item: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ImproperlyConfigured(f"ORGCONNECTORS_DNS_RESOLVERS: {item!r} has no valid port")
    return int(text)


def _resolver(timeout: float) -> dns.resolver.Resolver:
    configured = parse_resolvers(read_setting("ORGCONNECTORS_DNS_RESOLVERS", ""))
    resolver = dns.resolver.Resolver(configure=not configured)
    if configured:
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(host, port) for host, port in configured
        ]
    # `lifetime` bounds the whole lookup, every server and retry included.
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


def txt_records(name: str, *, timeout: float | None = None) -> list[str]:
    """The TXT records of `name`, each as one string (its character-strings joined)."""
    if timeout is None:
        timeout = float(read_setting("ORGCONNECTORS_EGRESS_CONNECT_TIMEOUT", DEFAULT_TIMEOUT))
    try:
        qname = dns.name.from_text(name)
    except (dns.exception.DNSException, UnicodeError):
        raise DnsLookupFailed(f"“{name}” is not a DNS name.") from None
    try:
        answer = _resolver(timeout).resolve(qname, dns.rdatatype.TXT, search=False)
    except dns.resolver.NXDOMAIN:
        raise DnsLookupFailed(f"{name} does not exist in DNS (NXDOMAIN).") from None
    except dns.resolver.NoAnswer:
        raise DnsLookupFailed(f"{name} has no TXT record.") from None
    except dns.exception.Timeout:
        raise DnsLookupFailed(
            f"The DNS lookup of {name} got no answer within {timeout:g} seconds; try again."
        ) from None
    except dns.resolver.NoNameservers:
        raise DnsLookupFailed(
            f"No DNS server could answer for {name} (they failed or refused); try again."
        ) from None
    except dns.exception.DNSException as failed:
        raise DnsLookupFailed(f"The DNS lookup of {name} failed: {failed}.") from None
    records = []
    for rdata in list(answer)[:MAX_RECORDS]:
        text = b"".join(rdata.strings).decode("utf-8", errors="replace")
        records.append(text[:MAX_RECORD_CHARS])
    return records
