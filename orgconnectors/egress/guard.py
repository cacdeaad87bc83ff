"""May the project send a request to this URL? Checks on the URL, then on what its host resolves to.

`check_url` is the static part (run when a URL is saved and again before every request);
`resolve_and_check` does the DNS lookup and judges every address it returns. The transport in
`client.py` connects only to an address `resolve_and_check` returned, so a name that resolves
differently the second time (DNS rebinding) gains nothing.
"""

import functools
import os
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

import anyio
import httpx
from django.conf import settings

from orgconnectors.egress.addresses import IPAddress, IPNetwork, blocked_reason, parse_networks

_TRUE = {"1", "true", "yes", "on"}
_HOST_NAME = re.compile(r"^[a-z0-9_.-]+$")  # hosts arrive IDNA-encoded, so ASCII only

# Names that point at this machine whatever DNS says (RFC 6761 and common /etc/hosts entries).
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# Suffixes used for private networks. They normally resolve to private addresses anyway;
# refusing them by name gives a clearer message when a URL is saved.
_PRIVATE_SUFFIXES = (
    ".local",
    ".internal",
    ".home.arpa",
    ".localdomain",
    ".lan",
    ".intranet",
    ".corp",
    ".private",
)


HTTP_LOOPBACK_ONLY = "http:// is allowed only for loopback hosts; use https://"


class EgressError(Exception):
    """An outbound request could not be made or completed safely."""


class EgressRefused(EgressError, ValueError):
    """The project refuses to send a request there; the message says why, for a person."""


def read_setting(name: str, default: Any = None) -> Any:
    """A Django setting when Django's settings are loaded, else the environment variable.

    Settings are not loaded from here: importing the package sets DJANGO_SETTINGS_MODULE, and
    loading settings as a side effect of a URL check would fail in scripts and plain tests.
    The settings module reads the same environment variables, so the answer is the same.
    """
    if settings.configured:
        value = getattr(settings, name, None)
        if value is not None:
            return value
    return os.environ.get(name, default)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


@dataclass(frozen=True)
class EgressPolicy:
    """What the settings open up beyond the public internet."""

    allow_loopback: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls) -> "EgressPolicy":
        return cls(
            allow_loopback=_truthy(read_setting("ORGCONNECTORS_ALLOW_LOOPBACK", "")),
            allowed_networks=parse_networks(read_setting("ORGCONNECTORS_EGRESS_ALLOW_CIDRS", "")),
        )

    def reason(self, ip: IPAddress | str) -> str | None:
        return blocked_reason(
            ip, allow_loopback=self.allow_loopback, allowed_networks=self.allowed_networks
        )


def current_policy() -> EgressPolicy:
    # Read on every use rather than cached, so a settings override applies at once.
    return EgressPolicy.from_settings()


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ip_address(host)
    except ValueError:
        pass
    # getaddrinfo accepts 127.1, 0x7f.1 and 2130706433 as IPv4; catch them before DNS would.
    try:
        packed = socket.inet_aton(host)
    except OSError:
        return None
    raise EgressRefused(
        f"the host {host!r} is an IP address written in a non-standard form "
        f"({socket.inet_ntoa(packed)}); write it as a plain dotted address"
    )


def check_host(host: str, *, policy: EgressPolicy | None = None) -> None:
    """Refuse a host (an ASCII name or an IP literal without brackets) that is obviously local."""
    policy = policy or current_policy()
    host = host.lower()
    if not host:
        raise EgressRefused("the URL has no host")
    name = host.rstrip(".")  # "localhost." and "127.0.0.1." mean the same as without the dot
    ip = _literal_ip(name)
    if ip is not None:
        reason = policy.reason(ip)
        if reason is not None:
            raise EgressRefused(f"the host {host!r} is {reason}")
        return
    if not _HOST_NAME.match(host):
        raise EgressRefused(f"the host {host!r} is not a valid host name")
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        if not policy.allow_loopback:
            raise EgressRefused(f"the host {host!r} is a loopback address")
        return
    # With loopback or internal ranges allowed, private names are expected; DNS still decides.
    if policy.allow_loopback or policy.allowed_networks:
        return
    suffix = next((s for s in _PRIVATE_SUFFIXES if name.endswith(s)), None)
    if suffix is not None:
        raise EgressRefused(f"the host {host!r} is a private network name ({suffix})")
    if "." not in name:
        raise EgressRefused(
            f"the host {host!r} has no domain; such names resolve inside the local network"
        )


def check_url_parts(
    scheme: str, host: str, port: int | None, userinfo: str | bytes, *, policy: EgressPolicy
) -> None:
    if scheme == "http":
        if not policy.allow_loopback:
            raise EgressRefused("http:// is not allowed; use https://")
    elif scheme != "https":
        shown = f"{scheme}://" if scheme else "a URL without a scheme"
        raise EgressRefused(f"only https:// URLs are allowed, not {shown}")
    if userinfo:
        raise EgressRefused(
            "the URL must not contain a user name or password (user:password@); "
            "configure credentials separately"
        )
    if port is not None and not 0 < port < 65536:
        raise EgressRefused(f"the port {port} is not a valid port")
    check_host(host, policy=policy)
    if scheme == "http":
        # A name is judged by what it resolves to, when saved and when dialled.
        literal = _literal_ip(host.lower().rstrip("."))
        if literal is not None and not literal.is_loopback:
            raise EgressRefused(HTTP_LOOPBACK_ONLY)


def check_url(url: str, *, policy: EgressPolicy | None = None) -> None:
    """Static checks for a URL about to be saved or requested; raises EgressRefused."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise EgressRefused(f"{url!r} is not a valid URL ({exc})") from None
    check_request_url(parsed, policy=policy)


def check_request_url(url: Any, *, policy: EgressPolicy | None = None) -> None:
    """`check_url` for an already parsed httpx or httpx2 URL (what a transport receives)."""
    check_url_parts(
        url.scheme,
        url.raw_host.decode("ascii"),
        url.port,
        url.userinfo,
        policy=policy or current_policy(),
    )


# What getaddrinfo's failures mean to the person reading a health line.
_DNS_REASONS = {
    socket.EAI_NONAME: "no DNS record exists for it",
    socket.EAI_AGAIN: "the DNS lookup failed for now (it may work again shortly)",
}
if hasattr(socket, "EAI_NODATA"):  # not on every platform
    _DNS_REASONS[socket.EAI_NODATA] = "no DNS record exists for it"


def _dns_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeError):
        return "it is not a valid host name"
    if isinstance(exc, socket.gaierror) and exc.errno in _DNS_REASONS:
        return _DNS_REASONS[exc.errno]
    return getattr(exc, "strerror", None) or str(exc)


def resolve_and_check(
    host: str, port: int, *, policy: EgressPolicy | None = None
) -> list[IPAddress]:
    """Resolve `host` and return its addresses, or refuse if any one of them is not allowed.

    All must pass, not just one: the caller may connect to any of them, and a name that
    mixes public and private answers is the shape of a rebinding attempt.
    """
    policy = policy or current_policy()
    check_host(host, policy=policy)
    literal = _literal_ip(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise EgressError(f"the host {host!r} could not be resolved: {_dns_reason(exc)}") from exc
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ip_address(sockaddr[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise EgressError(f"the host {host!r} resolves to no IP address")
    for ip in addresses:
        reason = policy.reason(ip)
        if reason is not None:
            raise EgressRefused(f"{host} resolves to {ip}, {reason}")
    return addresses


def call_in_thread(call: Callable[[], Any], timeout: float | None, on_timeout: Callable[[], Any]):
    """`call()` in a daemon thread, waiting at most `timeout` seconds for it.

    For getaddrinfo, which takes no timeout: an abandoned lookup ends in its thread, and its
    answer is dropped.
    """
    if timeout is None:
        return call()
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread as is
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="egress-dns", daemon=True).start()
    if not done.wait(timeout):
        raise on_timeout()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def resolve_and_check_within(
    host: str, port: int, *, policy: EgressPolicy | None = None, timeout: float | None = None
) -> list[IPAddress]:
    """`resolve_and_check`, waiting at most `timeout` seconds for DNS."""
    call = functools.partial(resolve_and_check, host, port, policy=policy or current_policy())

    def too_slow() -> EgressError:
        return EgressError(f"resolving {host!r} took longer than {timeout:g} s")

    return call_in_thread(call, timeout, too_slow)


def check_plaintext_addresses(host: str, addresses: list[IPAddress]) -> None:
    """http:// goes only to this machine: every address of `host` must be a loopback one."""
    for ip in addresses:
        if not ip.is_loopback:
            raise EgressRefused(f"{HTTP_LOOPBACK_ONLY} ({host} resolves to {ip})")


def check_url_on_save(url: str, *, policy: EgressPolicy | None = None, timeout: float = 5.0):
    """`check_url`, then what the host resolves to, judged as a request would judge it.

    For a clear answer when a URL is saved; the check before every connection stays the real
    guard (a name can resolve elsewhere later). A name that does not resolve, yet or because
    DNS is out of reach, is accepted: its health check will say so.
    """
    policy = policy or current_policy()
    check_url(url, policy=policy)
    parsed = httpx.URL(url.strip())
    host = parsed.raw_host.decode("ascii").lower()
    if _literal_ip(host.rstrip(".")) is not None:
        return  # judged by check_url already
    port = parsed.port or (80 if parsed.scheme == "http" else 443)
    try:
        addresses = resolve_and_check_within(host, port, policy=policy, timeout=timeout)
    except EgressRefused:
        raise
    except EgressError:
        if parsed.scheme == "http":
            raise EgressRefused(f"{HTTP_LOOPBACK_ONLY} ({host} does not resolve)") from None
        return
    if parsed.scheme == "http":
        check_plaintext_addresses(host, addresses)


async def aresolve_and_check(
    host: str, port: int, *, policy: EgressPolicy | None = None, timeout: float | None = None
) -> list[IPAddress]:
    """`resolve_and_check` in a worker thread, so DNS does not block the event loop."""
    policy = policy or current_policy()
    call = functools.partial(resolve_and_check, host, port, policy=policy)
    try:
        with anyio.fail_after(timeout):
            # An abandoned lookup finishes in its thread; its answer is simply not used.
            return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    except TimeoutError:
        raise EgressError(f"resolving {host!r} took longer than {timeout} s") from None
