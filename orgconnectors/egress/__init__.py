"""The egress guard: the one door for every outbound HTTP request of the project.

Use `build_async_client` / `build_client` for httpx requests (OAuth discovery, token calls),
`build_mcp_http_client` for the MCP SDK (httpx2), `check_url_on_save` when a URL is saved (it
resolves the host too) and `check_url` for the static checks alone.
"""

from orgconnectors.egress.addresses import blocked_reason, is_public
from orgconnectors.egress.client import (
    build_async_client,
    build_client,
    build_mcp_http_client,
    share_async_client,
)
from orgconnectors.egress.deadline import DeadlineExceeded
from orgconnectors.egress.guard import (
    EgressError,
    EgressPolicy,
    EgressRefused,
    aresolve_and_check,
    check_url,
    check_url_on_save,
    resolve_and_check,
)
from orgconnectors.egress.redirects import afollow_redirects_safely, follow_redirects_safely
from orgconnectors.egress.streams import ResponseTooLarge

__all__ = [
    "DeadlineExceeded",
    "EgressError",
    "EgressPolicy",
    "EgressRefused",
    "ResponseTooLarge",
    "afollow_redirects_safely",
    "aresolve_and_check",
    "blocked_reason",
    "build_async_client",
    "build_client",
    "build_mcp_http_client",
    "check_url",
    "check_url_on_save",
    "follow_redirects_safely",
    "is_public",
    "resolve_and_check",
    "share_async_client",
]
