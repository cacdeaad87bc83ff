"""Requests to an authorization server's token and revocation endpoints (RFC 6749, RFC 7009).

Plain functions over the egress guard, with no database: callers read what they need first and
call these with no transaction open. Nothing a server sends back is put in a message except its
OAuth error code and a shortened description, so no token ends up in an exception or a log.
"""

import base64
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from orgconnectors.egress import (
    DeadlineExceeded,
    EgressError,
    EgressRefused,
    ResponseTooLarge,
    build_client,
)
from orgconnectors.oauth.errors import TokenEndpointError

# Error codes after which the grant (or the client) is gone for good: the member must authorize
# again. Other 4xx answers are as permanent in practice, since sending the same again is futile.
PERMANENT_ERRORS = frozenset({"invalid_grant", "invalid_client", "invalid_target"})
_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass(frozen=True)
class ClientAuth:
    """Who orgconnectors is at the token endpoint (the plaintext secret only for the call)."""

    client_id: str
    client_secret: str = field(default="", repr=False)
    method: str = "none"  # none, client_secret_basic or client_secret_post

    def apply(self, data: dict[str, str], headers: dict[str, str]) -> None:
        # client_id always goes in the body too: some servers (the MCP SDK's) require it there.
        data["client_id"] = self.client_id
        if self.method == "client_secret_basic" and self.client_secret:
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif self.method == "client_secret_post" and self.client_secret:
            data["client_secret"] = self.client_secret


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    token_type: str
    expires_in: int | None
    refresh_token: str | None = field(default=None, repr=False)
    scope: str | None = None


def _short(text: object) -> str:
    return str(text or "")[:200]


def _error_from(response: httpx.Response) -> TokenEndpointError:
    status = response.status_code
    if status >= 500 or status == 429:
        return TokenEndpointError(
            f"The authorization server answered {status}; orgconnectors will try again.",
            error="server_error" if status >= 500 else "rate_limited",
            transient=True,
            status=status,
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    error = str(body.get("error") or f"http_{status}")[:64]
    described = _short(body.get("error_description"))
    detail = f": {described}" if described else ""
    return TokenEndpointError(
        f"The authorization server refused ({error}{detail}).",
        error=error,
        transient=False,
        status=status,
    )


def _network_error(error: Exception, url: str) -> TokenEndpointError:
    if isinstance(error, EgressRefused):
        return TokenEndpointError(
            f"orgconnectors refuses to send the request to {url}: {error}.",
            error="egress_refused",
            transient=True,
        )
    if isinstance(error, (DeadlineExceeded, ResponseTooLarge)):
        return TokenEndpointError(
            f"The authorization server's answer was not used ({error}); orgconnectors will try "
            "again.",
            error="network",
            transient=True,
        )
    what = "timed out" if isinstance(error, httpx.TimeoutException) else "could not be reached"
    return TokenEndpointError(
        f"The authorization server {what} ({type(error).__name__}); orgconnectors will try again.",
        error="network",
        transient=True,
    )


def _parse_tokens(response: httpx.Response) -> TokenSet:
    invalid = TokenEndpointError(
        "The authorization server's token answer is not valid OAuth JSON.",
        error="invalid_response",
        transient=True,
        status=response.status_code,
    )
    try:
        body = response.json()
    except ValueError:
        raise invalid from None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise invalid
    token_type = str(body.get("token_type") or "")
    if token_type.lower() != "bearer":
        raise TokenEndpointError(
            f"The authorization server issued a {token_type!r} token; MCP needs Bearer tokens.",
            error="unsupported_token_type",
            transient=False,
        )
    expires_in = body.get("expires_in")
    try:
        expires_in = int(expires_in) if expires_in is not None else None
    except (TypeError, ValueError):
        expires_in = None
    refresh_token = body.get("refresh_token")
    scope = body.get("scope")
    return TokenSet(
        access_token=body["access_token"],
        token_type="Bearer",
        expires_in=expires_in if expires_in and expires_in > 0 else None,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        scope=scope if isinstance(scope, str) else None,
    )


def token_request(*, token_endpoint: str, client: ClientAuth, grant: dict[str, str]) -> TokenSet:
    """POST a grant to the token endpoint; TokenEndpointError says whether to try again."""
    data = dict(grant)
    headers = {"Accept": "application/json"}
    client.apply(data, headers)
    try:
        with build_client(library="httpx", timeout=_TIMEOUT) as http:
            response = http.post(token_endpoint, data=data, headers=headers)
    except (httpx.HTTPError, EgressError) as error:
        raise _network_error(error, token_endpoint) from None
    if response.status_code != 200:
        raise _error_from(response)
    return _parse_tokens(response)


def revoke(*, revocation_endpoint: str, client: ClientAuth, token: str, hint: str) -> None:
    """Ask the server to revoke one token (RFC 7009); an unknown token is already revoked."""
    data = {"token": token, "token_type_hint": hint}
    headers = {"Accept": "application/json"}
    client.apply(data, headers)
    try:
        with build_client(library="httpx", timeout=_TIMEOUT) as http:
            response = http.post(revocation_endpoint, data=data, headers=headers)
    except (httpx.HTTPError, EgressError) as error:
        raise _network_error(error, revocation_endpoint) from None
    if response.status_code != 200:
        raise _error_from(response)
