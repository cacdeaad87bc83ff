"""HTTP clients whose every connection goes to an address the guard has checked.

A client built here sends through the guarded transport (transport.py), which checks each URL,
connects only to checked addresses (pinning.py), caps the answer and bounds the request's time.
Options that would send requests around that transport are refused.
"""

import importlib
from typing import Any

import httpx

from orgconnectors.egress.decoding import ACCEPT_ENCODING
from orgconnectors.egress.guard import EgressPolicy, read_setting
from orgconnectors.egress.transport import FROM_SETTINGS, Library, classes

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0

# Each of these would send requests around the guarded transport.
_BYPASSING_OPTIONS = ("transport", "mounts", "proxy", "trust_env")
_TRANSPORT_OPTIONS = (
    "policy",
    "verify",
    "cert",
    "limits",
    "retries",
    "max_response_bytes",
    "deadline",
)


def default_timeout(library: Library = "httpx") -> Any:
    connect = float(read_setting("ORGCONNECTORS_EGRESS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT))
    read = float(read_setting("ORGCONNECTORS_EGRESS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT))
    return importlib.import_module(library).Timeout(read, connect=connect)


def _build(asynchronous: bool, library: Library, timeout: Any, options: dict[str, Any]) -> Any:
    bypassing = sorted(set(options) & set(_BYPASSING_OPTIONS))
    if bypassing:
        raise TypeError(f"{', '.join(bypassing)} would bypass the egress guard")
    transport_options = {key: options.pop(key) for key in _TRANSPORT_OPTIONS if key in options}
    transport = classes(library)[0 if asynchronous else 1](**transport_options)
    client_class = getattr(
        importlib.import_module(library), "AsyncClient" if asynchronous else "Client"
    )
    options.setdefault("follow_redirects", False)
    client = client_class(
        transport=transport, timeout=timeout or default_timeout(library), trust_env=False, **options
    )
    if "accept-encoding" not in {name.lower() for name in (options.get("headers") or {})}:
        # Only what the transport can decode in bounded pieces (httpx's default may add zstd).
        client.headers["Accept-Encoding"] = ACCEPT_ENCODING
    return client


def build_async_client(
    *, library: Library = "httpx", timeout: Any = None, **options: Any
) -> httpx.AsyncClient:
    """An AsyncClient (of httpx, or of httpx2 with library="httpx2") behind the egress guard.

    Transport options: policy (an EgressPolicy; default: the settings at each request),
    verify, cert, limits, retries, max_response_bytes (the cap on decoded bytes; None lifts
    it, e.g. for a long-lived event stream), deadline (seconds for the whole request, body
    included; None lifts it). Everything else goes to the client (headers, auth, base_url...).
    """
    return _build(True, library, timeout, options)


def build_client(
    *, library: Library = "httpx", timeout: Any = None, **options: Any
) -> httpx.Client:
    """The synchronous counterpart of `build_async_client`."""
    return _build(False, library, timeout, options)


def share_async_client(client: Any, **options: Any) -> Any:
    """Another AsyncClient on `client`'s guarded transport, so on its pooled connections, with
    its own headers and event hooks (e.g. one member's token): no new connection pool, SSL
    context or CA bundle. Never close it: closing would close the shared transport."""
    bypassing = sorted(set(options) & {*_BYPASSING_OPTIONS, *_TRANSPORT_OPTIONS})
    if bypassing:
        raise TypeError(f"{', '.join(bypassing)} cannot differ from the shared client's")
    headers = dict(client.headers)
    headers.update(options.pop("headers", None) or {})
    options.setdefault("follow_redirects", False)
    options.setdefault("timeout", client.timeout)
    return type(client)(transport=client._transport, trust_env=False, headers=headers, **options)


def build_mcp_http_client(
    headers: Any = None,
    timeout: Any = None,
    auth: Any = None,
    *,
    policy: EgressPolicy | None = None,
    max_response_bytes: int | None = FROM_SETTINGS,
    deadline: float | None = FROM_SETTINGS,
) -> Any:
    """An httpx2.AsyncClient for the MCP SDK; fits its `McpHttpClientFactory` signature.

    The SDK only accepts httpx2 clients; OAuth requests made by an `auth` provider go through
    the same guarded transport.
    """
    return build_async_client(
        library="httpx2",
        policy=policy,
        max_response_bytes=max_response_bytes,
        deadline=deadline,
        headers=headers,
        timeout=timeout,
        auth=auth,
    )
