"""A `requests.Session` that sends every request through the guarded httpx client (client.py).

Libraries written for `requests` (allauth's social account providers: OpenID Connect discovery,
token exchange, userinfo, signing keys) get this session, so their requests go only to the
addresses the guard allows, pinned, with the answer's size and the request's time bounded.
A refusal of the guard is raised as a `requests` exception whose message says why.
"""

from typing import Any

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from orgconnectors.egress.client import build_client
from orgconnectors.egress.deadline import DeadlineExceeded
from orgconnectors.egress.guard import EgressError, EgressPolicy, EgressRefused
from orgconnectors.egress.streams import ResponseTooLarge


class EgressRefusedError(requests.exceptions.ConnectionError):
    """The egress guard would not send the request there (a private address...)."""


class EgressTooLargeError(requests.exceptions.ContentDecodingError):
    """The answer was larger than the egress cap."""


class EgressTimeoutError(requests.exceptions.Timeout):
    """No complete answer within the egress deadline or the timeout."""


def _httpx_timeout(timeout: Any) -> Any:
    """requests' timeout (seconds, or a (connect, read) pair) as httpx's; None: the default."""
    if timeout is None:
        return None
    if isinstance(timeout, tuple):
        connect, read = timeout
        return httpx.Timeout(read, connect=connect)
    return httpx.Timeout(timeout)


class EgressAdapter(BaseAdapter):
    """Sends each prepared request with the guarded httpx client; the body is read whole (it is
    capped by the client), so `stream=True` gets an already-read response."""

    def __init__(self, *, policy: EgressPolicy | None = None) -> None:
        super().__init__()
        # Redirects are left to requests (its Session follows them through this adapter
        # again), so each hop is checked by the guard.
        self._client = build_client(policy=policy, follow_redirects=False)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        headers = {key: value for key, value in request.headers.items()}
        options: dict[str, Any] = {}
        timeout = _httpx_timeout(timeout)
        if timeout is not None:
            options["timeout"] = timeout
        try:
            answer = self._client.request(
                request.method or "GET",
                request.url or "",
                headers=headers,
                content=request.body,
                **options,
            )
        except EgressRefused as refused:
            raise EgressRefusedError(
                f"Refused to reach {request.url}: {refused}", request=request
            ) from refused
        except ResponseTooLarge as too_large:
            raise EgressTooLargeError(
                f"The answer of {request.url} is too large: {too_large}", request=request
            ) from too_large
        except (DeadlineExceeded, httpx.TimeoutException) as slow:
            raise EgressTimeoutError(
                f"{request.url} did not answer in time: {slow}", request=request
            ) from slow
        except (EgressError, httpx.HTTPError) as failed:
            raise requests.exceptions.ConnectionError(
                f"Could not reach {request.url}: {failed}", request=request
            ) from failed
        return self._as_requests_response(request, answer)

    @staticmethod
    def _as_requests_response(
        request: requests.PreparedRequest, answer: httpx.Response
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = answer.status_code
        # httpx has decoded the body: the encoding headers no longer describe it.
        response.headers = CaseInsensitiveDict(
            {
                key: value
                for key, value in answer.headers.items()
                if key.lower() not in ("content-encoding", "transfer-encoding")
            }
        )
        response._content = answer.content
        response._content_consumed = True
        response.encoding = get_encoding_from_headers(response.headers)
        response.reason = answer.reason_phrase
        response.url = request.url or ""
        response.request = request
        response.raw = None
        return response

    def close(self) -> None:
        self._client.close()


def build_requests_session(*, policy: EgressPolicy | None = None) -> requests.Session:
    """A requests Session whose every request, http or https, goes through the egress guard."""
    session = requests.Session()
    # No proxies or .netrc from the environment: the guarded client would not use them anyway.
    session.trust_env = False
    adapter = EgressAdapter(policy=policy)
    session.adapters.clear()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
